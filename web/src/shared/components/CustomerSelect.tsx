import { useQuery } from "@tanstack/react-query";
import { Select } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { api, unwrap } from "../api/client";

interface Props {
  value?: number | null;
  onChange?: (value: number | undefined) => void;
  id?: string;
  placeholder?: string;
  style?: React.CSSProperties;
  "aria-label"?: string;
}

/** A customer picked by typing part of its name or code (`GET /customers?q=`); the value is its
 * id. A value not among the matches (an existing record's customer) is fetched for its label. */
export function CustomerSelect({ value, onChange, id, placeholder, style, ...rest }: Props) {
  const { t } = useTranslation();
  const [q, setQ] = useState("");
  const found = useQuery({
    queryKey: ["customers", "search", q],
    queryFn: async () =>
      (await unwrap(api.GET("/api/v1/customers", { params: { query: { q: q || undefined, page_size: 20 } } }))).items,
  });
  const current = useQuery({
    queryKey: ["customers", value],
    queryFn: () => unwrap(api.GET("/api/v1/customers/{customer_id}", { params: { path: { customer_id: String(value) } } })),
    enabled: typeof value === "number" && !found.data?.some((c) => c.id === value),
  });
  const options = (found.data ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.code})` }));
  if (typeof value === "number" && !options.some((o) => o.value === value) && current.data)
    options.unshift({ value: current.data.id, label: `${current.data.name} (${current.data.code})` });
  return (
    <Select<number>
      id={id}
      aria-label={rest["aria-label"]}
      showSearch={{ filterOption: false, onSearch: setQ }}
      allowClear
      value={value ?? undefined}
      onChange={(v) => onChange?.(v ?? undefined)}
      placeholder={placeholder}
      loading={found.isFetching}
      options={options}
      notFoundContent={found.isFetching ? t("common.loading") : t("header.noResults")}
      style={{ width: "100%", ...style }}
    />
  );
}
