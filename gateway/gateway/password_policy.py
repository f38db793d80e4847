"""The password policy of new passwords (a user created, a password changed or reset, an
invitation accepted, the first administrator of a real deployment): at least
:data:`MIN_LENGTH` characters, not one of the common passwords shipped here, not the username.

Existing passwords are not re-checked at login (the embedded default's first administrator
``admin``/``admin`` keeps working, with a warning in the log)."""

from __future__ import annotations

import re
import unicodedata

from crm_common.errors import ValidationFailed

MIN_LENGTH = 12
MAX_LENGTH = 1024

# Passwords that lead every published breach list, their common variations and the placeholder
# values of this repository's own examples. Compared after NFKC and case folding; the policy's
# length rule refuses every shorter common password anyway, so the list is about the long ones.
COMMON_PASSWORDS = frozenset(
    """
123456 123456789 12345678 12345 1234567 1234567890 111111 000000 123123 654321 666666 121212
password password1 password12 password123 password1234 password12345 password123456 passw0rd
p@ssw0rd p@ssword passwordpassword password! password1! password123! password2024 password2025
password2026 mypassword mypassword1 mypassword123 newpassword newpassword1 newpassword123
secretpassword supersecret supersecretpassword topsecret topsecret123 changeme changeme123
changemenow change-me change_me changethis changethispassword replaceme letmein letmein123
letmeinnow welcome welcome1 welcome123 welcome1234 welcometothejungle welcomehome iloveyou
iloveyou1 iloveyou123 iloveyousomuch iloveyoubaby qwerty qwerty1 qwerty123 qwerty1234
qwertyuiop qwertyuiop1 qwertyuiop123 qwertyuiopasdf qwertyuiopasdfghjkl qwertyuiopasdfghjklzxcvbnm
qwerty123456 qwertyqwerty 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1q2w3e4r5t6y7u8i 1qaz2wsx
1qaz2wsx3edc 1qaz2wsx3edc4rfv zaq12wsx zaq1zaq1 zaq12wsxcde3 asdfghjkl asdfghjkl123
asdfasdfasdf asdf1234 asdfqwer zxcvbnm zxcvbnm123 zxcvbnmasdfghjkl 1234qwer 123qwe 123qweasd
123qweasdzxc abc123 abc12345 abcd1234 abcdefg abcdefgh abcdefghijkl abcdefghijklm
abcdefghijklmnop abcdefghijklmnopqrstuvwxyz abc123abc123 a1b2c3d4 a1b2c3d4e5f6 aa123456
123456789a 123456789abc 12345678910 123456789012 1234567890123 12345678901234 123456123456
123123123123 111111111111 000000000000 999999999999 121212121212 112233445566 123321123321
147258369 159753 159357 987654321 9876543210 098765432112 0987654321 147852369 789456123
admin admin1 admin12 admin123 admin1234 admin12345 admin123456 administrator administrator1
administrator123 adminadmin adminadmin123 adminpassword admin-password admin_password root
rootroot rootpassword toor superuser superuser123 user user123 username username123 guest
guest123 test test123 test1234 testtest testing testing123 testpassword demo demo123 default
default123 login login123 master master123 mastermaster access access123 monkey monkey123
dragon dragon123 shadow sunshine princess football football123 baseball basketball soccer
hockey superman batman spiderman starwars pokemon minecraft michael jennifer jessica charlie
ashley trustno1 freedom whatever blink182 linkinpark computer internet samsung iphone
1password onepassword lastpass bitwarden keepass mustang harley ferrari corvette chelsea
liverpool arsenal manchester manchesterunited barcelona realmadrid juventus galatasaray
fenerbahce besiktas istanbul ankara sofia bulgaria turkey china beijing shanghai
qazwsxedc qazwsxedcrfv qazwsxedc123 1qazxsw2 zaqwsx zaq1xsw2 q1w2e3r4 q1w2e3r4t5
q1w2e3r4t5y6 qweasdzxc qweasd qwe123 qwe123qwe qwe123456 asd123 zxc123 1234abcd 12qwaszx
correcthorsebatterystaple correct-horse-battery-staple thequickbrownfox
thequickbrownfoxjumpsoverthelazydog letmeinplease pleaseletmein opensesame open-sesame
nopassword nopass passpass pass1234 pass12345 pass123456 passpasspass
""".split()
)

_PUNCTUATION = re.compile(r"[\s\-_.!@#$%^&*+=~]+")


def normalised(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def is_common(password: str) -> bool:
    """In the shipped list, also with separators left out (``qwerty-123456`` = ``qwerty123456``)."""
    text = normalised(password)
    return text in COMMON_PASSWORDS or _PUNCTUATION.sub("", text) in COMMON_PASSWORDS


def problems(password: str, username: str | None = None) -> list[str]:
    """Why ``password`` is not acceptable as a new password (empty: it is)."""
    found: list[str] = []
    if len(password) < MIN_LENGTH:
        found.append(f"at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        found.append(f"at most {MAX_LENGTH} characters")
    if is_common(password):
        found.append("is one of the most common passwords: choose another")
    if username and normalised(password).strip() == normalised(username).strip():
        found.append("must not be the username")
    return found


def require(password: str, username: str | None, field: str = "password") -> None:
    """422 naming ``field`` when ``password`` fails the policy."""
    found = problems(password, username)
    if found:
        raise ValidationFailed(
            f"{field}: the password policy refuses it: " + "; ".join(found), {field: found}
        )
