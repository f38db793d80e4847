// Search selects of the wizard: customers and products from the server, as the user types.
import { useQuery } from "@tanstack/react-query";
import { Select, Spin } from "antd";
import { useEffect, useState } from "react";
import { useTranslation } from "react-i18next";
import { useFormat } from "../../shared/format/useFormat";
import { getCustomer, searchCustomers, searchProducts, type Product } from "./api";

type Customer = Awaited<ReturnType<typeof getCustomer>>;

function useDebounced<T>(value: T, ms = 250): T {
  const [current, setCurrent] = useState(value);
  useEffect(() => {
    const timer = setTimeout(() => setCurrent(value), ms);
    return () => clearTimeout(timer);
  }, [value, ms]);
  return current;
}

interface CustomerSelectProps {
  id?: string;
  value?: number;
  onChange?: (value: number | undefined) => void;
  onCustomer?: (customer: Customer | undefined) => void;
  placeholder?: string;
  "data-testid"?: string;
}

/** A customer picked by name, code, e-mail or phone (`GET /customers?q=`). */
export function CustomerSelect({ id, value, onChange, onCustomer, placeholder, ...rest }: CustomerSelectProps) {
  const { t } = useTranslation();
  const [search, setSearch] = useState("");
  const q = useDebounced(search);
  const found = useQuery({ queryKey: ["customers", "pick", q], queryFn: () => searchCustomers(q) });
  const current = useQuery({
    queryKey: ["customers", value],
    queryFn: () => getCustomer(value as number),
    enabled: value !== undefined && value !== null,
  });
  const items = found.data?.items ?? [];
  const options = items.map((c) => ({ value: c.id, label: `${c.code} · ${c.name}` }));
  if (current.data && !options.some((o) => o.value === current.data.id)) {
    options.unshift({ value: current.data.id, label: `${current.data.code} · ${current.data.name}` });
  }
  useEffect(() => {
    onCustomer?.(current.data);
  }, [current.data]);
  return (
    <Select
      id={id}
      data-testid={rest["data-testid"]}
      showSearch={{ filterOption: false, onSearch: setSearch }}
      value={value}
      onChange={(v) => onChange?.(v)}
      placeholder={placeholder ?? t("contracts.customerSearch")}
      notFoundContent={found.isFetching ? <Spin size="small" /> : t("common.empty")}
      options={options}
      style={{ width: "100%" }}
      allowClear
    />
  );
}

interface ProductSelectProps {
  id?: string;
  value?: number;
  onChange?: (value: number | undefined) => void;
  onProduct?: (product: Product | undefined) => void;
  known?: Product[];
  "data-testid"?: string;
}

/** A product of the catalogue, shown as SKU · name · price (`GET /products?q=`). */
export function ProductSelect({ id, value, onChange, onProduct, known = [], ...rest }: ProductSelectProps) {
  const { t } = useTranslation();
  const f = useFormat();
  const [search, setSearch] = useState("");
  const q = useDebounced(search);
  const found = useQuery({ queryKey: ["products", "pick", q], queryFn: () => searchProducts(q) });
  const items = [...(found.data?.items ?? [])];
  for (const p of known) if (!items.some((i) => i.id === p.id)) items.push(p);
  return (
    <Select
      id={id}
      data-testid={rest["data-testid"]}
      showSearch={{ filterOption: false, onSearch: setSearch }}
      value={value}
      onChange={(v) => {
        onChange?.(v);
        onProduct?.(items.find((p) => p.id === v));
      }}
      placeholder={t("contracts.productSearch")}
      notFoundContent={found.isFetching ? <Spin size="small" /> : t("common.empty")}
      options={items.map((p) => ({
        value: p.id,
        label: `${p.sku} · ${p.name} · ${f.money(p.unit_price, p.currency)}`,
      }))}
      popupMatchSelectWidth={false}
      style={{ width: "100%" }}
    />
  );
}
