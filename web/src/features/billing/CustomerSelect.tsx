import { useQuery } from "@tanstack/react-query";
import { Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { CustomerSelect as SharedCustomerSelect } from "../../shared/components/CustomerSelect";
import { getContract, searchContracts } from "./api";

interface Props {
  value?: number;
  onChange?: (value: number | undefined) => void;
  id?: string;
  placeholder?: string;
  style?: React.CSSProperties;
  "aria-label"?: string;
}

/** The shared customer picker with billing's placeholder and a minimum width for filter bars. */
export function CustomerSelect({ placeholder, style, ...props }: Props) {
  const { t } = useTranslation();
  return <SharedCustomerSelect {...props} placeholder={placeholder ?? t("billing.customerPick")} style={{ minWidth: 220, width: undefined, ...style }} />;
}

/** A contract picked by typing part of its number, title or customer (the value is its id). */
export function ContractSelect({ value, onChange, id, placeholder, style, ...rest }: Props) {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const found = useQuery({ queryKey: ["billing", "contract-search", q], queryFn: () => searchContracts(q) });
  const current = useQuery({
    queryKey: ["billing", "contract", value],
    queryFn: () => getContract(value as number),
    enabled: value !== undefined && !found.data?.some((c) => c.id === value),
  });
  const options = (found.data ?? []).map((c) => ({ value: c.id, label: `${c.number} · ${c.title}` }));
  if (value !== undefined && !options.some((o) => o.value === value) && current.data)
    options.unshift({ value: current.data.id, label: `${current.data.number} · ${current.data.title}` });
  return (
    <Select<number>
      id={id}
      aria-label={rest["aria-label"]}
      showSearch={{ filterOption: false, onSearch: setQ }}
      allowClear
      value={value}
      onChange={(v) => onChange?.(v ?? undefined)}
      placeholder={placeholder ?? t("billing.contractPick")}
      loading={found.isFetching}
      options={options}
      notFoundContent={found.isFetching ? t("common.loading") : t("header.noResults")}
      style={{ minWidth: 220, ...style }}
    />
  );
}
