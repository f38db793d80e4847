import { useQuery } from "@tanstack/react-query";
import { Select } from "antd";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../shared/auth/AuthProvider";
import { listStaff } from "./api";

/** An owner filter: me, or (administrators, who may list users) any member of staff. */
export function OwnerSelect({ value, onChange }: { value?: string; onChange: (v: string | undefined) => void }) {
  const { t } = useTranslation();
  const { user, can } = useAuth();
  const staff = useQuery({ queryKey: ["opportunities", "staff"], queryFn: listStaff, enabled: can("admin.users"), staleTime: 300_000 });
  const options = [
    ...(user ? [{ value: String(user.id), label: t("opportunities.mine") }] : []),
    ...(staff.data ?? [])
      .filter((u) => u.id !== user?.id)
      .map((u) => ({ value: String(u.id), label: u.full_name ? `${u.full_name} (${u.username})` : u.username })),
  ];
  return (
    <Select
      aria-label={t("common.owner")}
      placeholder={t("opportunities.anyOwner")}
      allowClear
      showSearch={{ optionFilterProp: "label" }}
      value={value}
      onChange={(v) => onChange(v ?? undefined)}
      options={options}
      style={{ width: 200 }}
    />
  );
}

/** An owner's name where the caller may know it, else "User #id". */
export function useOwnerName() {
  const { t } = useTranslation();
  const { user, can } = useAuth();
  const staff = useQuery({ queryKey: ["opportunities", "staff"], queryFn: listStaff, enabled: can("admin.users"), staleTime: 300_000 });
  return (id: number | null | undefined): string => {
    if (id === null || id === undefined) return "—";
    if (id === user?.id) return user.full_name || user.username;
    const u = staff.data?.find((s) => s.id === id);
    return u ? u.full_name || u.username : t("opportunities.userNo", { id });
  };
}
