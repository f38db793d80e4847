import { useQuery } from "@tanstack/react-query";
import { Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { getContractNumber, getCustomerName, getProduct } from "./api";

/** The page of a serial unit. */
export const unitPath = (serial: string) => `/inventory/units/${encodeURIComponent(serial)}`;

/** A product named by its id only (moves, units, reservations): its SKU and name, linked. */
export function ProductLink({ id }: { id: number | null | undefined }) {
  const product = useQuery({
    queryKey: ["inventory", "product", id],
    queryFn: () => getProduct(id as number),
    enabled: typeof id === "number",
    staleTime: 60_000,
  });
  if (id === null || id === undefined) return <>—</>;
  const p = product.data;
  return <Link to={`/inventory/products/${id}`}>{p ? `${p.sku} · ${p.name}` : `#${id}`}</Link>;
}

/** A contract named by its id only: its number once known, linked to its page. */
export function ContractLink({ id }: { id: number | string | null | undefined }) {
  const contract = useQuery({
    queryKey: ["inventory", "contract", String(id)],
    queryFn: () => getContractNumber(id as number | string),
    enabled: id !== null && id !== undefined,
    staleTime: 60_000,
    retry: false,
  });
  if (id === null || id === undefined) return <>—</>;
  return <Link to={`/contracts/${id}`}>{contract.data?.number ?? `#${id}`}</Link>;
}

const UNIT_COLORS: Record<string, string> = {
  in_stock: "green",
  reserved: "gold",
  dispatched: "blue",
  leased: "purple",
  returned: "cyan",
  scrapped: "default",
  active: "processing",
  released: "default",
  dispatched_: "blue",
  submitted: "processing",
  approved: "green",
  rejected: "red",
  received: "green",
  open: "processing",
  cancelled: "default",
};

/** A status of an inventory record in the reader's language. */
export function InvStatus({ status }: { status: string | null | undefined }) {
  const { t } = useTranslation();
  if (!status) return null;
  return <Tag color={UNIT_COLORS[status] ?? "default"}>{t(`inventory.status.${status}`, { defaultValue: status })}</Tag>;
}

/** "in"/"out" as a coloured tag. */
export function Direction({ value }: { value: string }) {
  const { t } = useTranslation();
  return <Tag color={value === "in" ? "green" : "orange"}>{t(`inventory.direction.${value}`)}</Tag>;
}

export function CustomerLink({ id }: { id: number | string | null | undefined }) {
  const customer = useQuery({
    queryKey: ["customers", String(id)],
    queryFn: () => getCustomerName(id as number),
    enabled: id !== null && id !== undefined,
    staleTime: 60_000,
    retry: false,
  });
  if (id === null || id === undefined) return <>—</>;
  return <Link to={`/customers/${id}`}>{customer.data ? `${customer.data.code} · ${customer.data.name}` : `#${id}`}</Link>;
}
