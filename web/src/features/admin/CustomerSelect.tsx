import { useQuery } from "@tanstack/react-query";
import { Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { getCustomer, searchCustomers } from "./api";

interface Props {
  value?: number | null;
  onChange?: (value: number | undefined) => void;
  id?: string;
}

/** The customer a portal user belongs to, picked by typing part of its name or code. */
export function CustomerSelect({ value, onChange, id }: Props) {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const found = useQuery({ queryKey: ["admin", "customer-search", q], queryFn: () => searchCustomers(q) });
  const current = useQuery({
    queryKey: ["admin", "customer", value],
    queryFn: () => getCustomer(value as number),
    enabled: typeof value === "number" && !found.data?.some((c) => c.id === value),
  });
  const options = (found.data ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.code})` }));
  if (typeof value === "number" && !options.some((o) => o.value === value) && current.data)
    options.unshift({ value: current.data.id, label: `${current.data.name} (${current.data.code})` });
  return (
    <Select<number>
      id={id}
      showSearch={{ filterOption: false, onSearch: setQ }}
      allowClear
      value={value ?? undefined}
      onChange={(v) => onChange?.(v ?? undefined)}
      placeholder={t("admin.users.customerPick")}
      loading={found.isFetching}
      options={options}
      notFoundContent={found.isFetching ? t("common.loading") : t("header.noResults")}
      style={{ width: "100%" }}
    />
  );
}
