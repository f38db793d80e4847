// Selects for the records these screens point at: products, warehouses, categories, customers,
// contracts. Remote ones search the server as the user types.
import { useQuery } from "@tanstack/react-query";
import { Select, type SelectProps } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { allWarehouses, getProduct, listCategories, searchContracts, searchCustomers, searchProducts, type Product } from "./api";

type Props<V> = Omit<SelectProps<V>, "options" | "showSearch" | "filterOption" | "onSearch">;

function useSearch<T>(key: string, fetch: (q: string) => Promise<{ items: T[] }>) {
  const [text, setText] = useState("");
  const query = useQuery({ queryKey: ["inventory-pick", key, text], queryFn: () => fetch(text), staleTime: 30_000 });
  return { items: query.data?.items ?? [], loading: query.isFetching, setText };
}

/** A product, found by SKU, name, model or manufacturer; `onPick` hands over the whole product. */
export function ProductSelect({
  onPick,
  value,
  ...props
}: Props<number> & { onPick?: (p: Product | undefined) => void }) {
  const { t } = useTranslation();
  const { items, loading, setText } = useSearch("products", searchProducts);
  // the chosen product stays labelled even when it is not among the current matches
  const chosen = useQuery({
    queryKey: ["inventory", "product", value],
    queryFn: () => getProduct(value as number),
    enabled: typeof value === "number" && !items.some((p) => p.id === value),
  });
  const all = chosen.data && !items.some((p) => p.id === chosen.data.id) ? [chosen.data, ...items] : items;
  return (
    <Select<number>
      showSearch={{ filterOption: false, onSearch: setText }}
      allowClear
      placeholder={t("inventory.pickProduct")}
      loading={loading}
      value={value}
      notFoundContent={loading ? t("common.loading") : t("common.empty")}
      options={all.map((p) => ({ value: p.id, label: `${p.sku} · ${p.name}` }))}
      onSelect={(id) => onPick?.(all.find((p) => p.id === id))}
      onClear={() => onPick?.(undefined)}
      {...props}
    />
  );
}

export function useWarehouses() {
  return useQuery({ queryKey: ["inventory", "warehouses", "all"], queryFn: allWarehouses, staleTime: 60_000 });
}

export function WarehouseSelect(props: Props<number>) {
  const { t } = useTranslation();
  const warehouses = useWarehouses();
  return (
    <Select<number>
      showSearch={{ optionFilterProp: "label" }}
      allowClear
      placeholder={t("inventory.pickWarehouse")}
      loading={warehouses.isLoading}
      options={(warehouses.data?.items ?? []).map((w) => ({ value: w.id, label: `${w.code} · ${w.name}` }))}
      {...props}
    />
  );
}

export function useCategories() {
  return useQuery({ queryKey: ["inventory", "categories"], queryFn: listCategories, staleTime: 60_000 });
}

/** A category by its path ("Devices/Printers"), as products name it; or by id with `byId`. */
export function CategorySelect({ byId, ...props }: Props<string | number> & { byId?: boolean }) {
  const { t } = useTranslation();
  const categories = useCategories();
  return (
    <Select<string | number>
      showSearch={{ optionFilterProp: "label" }}
      allowClear
      placeholder={t("inventory.pickCategory")}
      loading={categories.isLoading}
      options={[...(categories.data ?? [])]
        .sort((a, b) => a.path.localeCompare(b.path))
        .map((c) => ({ value: byId ? c.id : c.path, label: c.path }))}
      {...props}
    />
  );
}

export function CustomerSelect(props: Props<number>) {
  const { t } = useTranslation();
  const { items, loading, setText } = useSearch("customers", searchCustomers);
  return (
    <Select<number>
      showSearch={{ filterOption: false, onSearch: setText }}
      allowClear
      placeholder={t("inventory.pickCustomer")}
      loading={loading}
      options={items.map((c) => ({ value: c.id as number, label: `${c.code} · ${c.name}` }))}
      {...props}
    />
  );
}

export function ContractSelect(props: Props<number>) {
  const { t } = useTranslation();
  const { items, loading, setText } = useSearch("contracts", searchContracts);
  return (
    <Select<number>
      showSearch={{ filterOption: false, onSearch: setText }}
      allowClear
      placeholder={t("inventory.pickContract")}
      loading={loading}
      options={items.map((c) => ({ value: c.id as number, label: `${c.number} · ${c.title}` }))}
      {...props}
    />
  );
}

/** Names of the warehouses for tables that carry only their ids. */
export function useWarehouseName() {
  const warehouses = useWarehouses();
  return (id: number | null | undefined) => {
    if (id === null || id === undefined) return "—";
    const w = warehouses.data?.items.find((x) => x.id === id);
    return w ? w.code : `#${id}`;
  };
}
