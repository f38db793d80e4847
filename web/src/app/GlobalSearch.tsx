import { SearchOutlined } from "@ant-design/icons";
import { useQuery } from "@tanstack/react-query";
import { AutoComplete } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { api } from "../shared/api/client";
import { useAuth } from "../shared/auth/AuthProvider";

function useDebounced<T>(value: T, ms: number): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

/** One box for customers (name, code, e-mail, phone, tax id), contracts (number, title) and
 * serial units (exact serial number). */
export function GlobalSearch() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { can } = useAuth();
  const [text, setText] = useState("");
  const q = useDebounced(text.trim(), 250);
  const results = useQuery({
    queryKey: ["global-search", q],
    enabled: q.length >= 2,
    queryFn: async () => {
      const [customers, contracts, unit] = await Promise.all([
        can("customers.view")
          ? api.GET("/api/v1/customers", { params: { query: { q, page_size: 5 } } }).then((r) => r.data?.items ?? [])
          : Promise.resolve([]),
        can("contracts.view")
          ? api.GET("/api/v1/contracts", { params: { query: { q, page_size: 5 } } }).then((r) => r.data?.items ?? [])
          : Promise.resolve([]),
        can("inventory.view")
          ? api
              .GET("/api/v1/units/{serial_number}", { params: { path: { serial_number: q } } })
              .then((r) => (r.response.ok ? r.data : null))
          : Promise.resolve(null),
      ]);
      return { customers, contracts, unit };
    },
  });
  const data = results.data;
  const options = [
    data?.customers.length
      ? {
          label: t("header.customersGroup"),
          options: data.customers.map((c) => ({ value: `/customers/${c.id}`, label: `${c.name} · ${c.code ?? ""}` })),
        }
      : null,
    data?.contracts.length
      ? {
          label: t("header.contractsGroup"),
          options: data.contracts.map((c) => ({ value: `/contracts/${c.id}`, label: `${c.number} · ${c.title}` })),
        }
      : null,
    data?.unit
      ? {
          label: t("header.unitsGroup"),
          options: [{ value: `/inventory/units/${encodeURIComponent(q)}`, label: q }],
        }
      : null,
  ].filter((o) => o !== null);
  return (
    <AutoComplete
      value={text}
      onChange={setText}
      options={options}
      onSelect={(path: string) => {
        setText("");
        navigate(path);
      }}
      style={{ width: "100%", maxWidth: 420 }}
      prefix={<SearchOutlined />}
      placeholder={t("header.search")}
      aria-label={t("header.search")}
      allowClear
      notFoundContent={q.length >= 2 && !results.isFetching ? t("header.noResults") : null}
    />
  );
}
