#!/bin/sh
# Fonts the PDFs embed (crm_common.pdf): DejaVu Sans (Latin, Turkish, Cyrillic) and a CJK font
# (Droid Sans Fallback). Installs them with apt-get when missing and run as root
# on Debian/Ubuntu; otherwise says what to install. CRM_FONT_DIR may point at a directory with the
# font files instead.
set -u
have() { [ -n "$(find ${CRM_FONT_DIR:-} /usr/share/fonts /usr/local/share/fonts -name "$1" 2>/dev/null | head -n 1)" ]; }
missing=""
have DejaVuSans.ttf || missing="$missing fonts-dejavu-core"
# Droid Sans Fallback even where Noto CJK is installed (a browser's font, say): Noto CJK comes as a
# font collection (.ttc), which the PDFs' pre-reduced font cache cannot take, so every Chinese
# document would subset the whole collection (about 1 s each instead of a few ms).
if ! have DroidSansFallbackFull.ttf && ! have DroidSansFallback.ttf; then
    missing="$missing fonts-droid-fallback"
fi
[ -z "$missing" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing PDF fonts:$missing"
    { apt-get install -y -q $missing || { apt-get update -q && apt-get install -y -q $missing; }; } >/dev/null \
        || { echo "apt-get could not install$missing" >&2; exit 1; }
else
    echo "WARNING: PDF fonts missing; PDFs will lack glyphs. Install them: sudo apt-get install$missing" >&2
    echo "         (or set CRM_FONT_DIR to a directory with DejaVuSans.ttf and a CJK font)" >&2
fi
