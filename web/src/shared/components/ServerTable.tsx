import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { Table, type TableColumnsType, type TablePaginationConfig } from "antd";
import type { SorterResult } from "antd/es/table/interface";
import { useTranslation } from "react-i18next";
import { useSearchParams } from "react-router-dom";
import { ErrorAlert } from "./errors";

export interface PageOf<T> {
  items: T[];
  total: number;
  page: number;
  page_size: number;
}

export interface ListParams {
  page: number;
  page_size: number;
  sort?: string;
  filters: Record<string, string>;
}

/** Paging, sorting and filters of a list, kept in the URL so a list can be shared and Back works. */
export function useListParams(filterNames: readonly string[], defaultPageSize = 20) {
  const [params, setParams] = useSearchParams();
  const filters: Record<string, string> = {};
  for (const name of filterNames) {
    const value = params.get(name);
    if (value !== null && value !== "") filters[name] = value;
  }
  const list: ListParams = {
    page: Math.max(1, Number(params.get("page") ?? 1) || 1),
    page_size: Math.min(500, Math.max(1, Number(params.get("page_size") ?? defaultPageSize) || defaultPageSize)),
    sort: params.get("sort") ?? undefined,
    filters,
  };
  const update = (changes: Record<string, string | number | null | undefined>, resetPage = true) => {
    setParams(
      (current) => {
        const next = new URLSearchParams(current);
        for (const [key, value] of Object.entries(changes)) {
          if (value === null || value === undefined || value === "") next.delete(key);
          else next.set(key, String(value));
        }
        if (resetPage && !("page" in changes)) next.delete("page");
        return next;
      },
      { replace: false },
    );
  };
  return { list, update };
}

interface ServerTableProps<T> {
  queryKey: readonly unknown[];
  fetch: (params: ListParams) => Promise<PageOf<T>>;
  columns: TableColumnsType<T>;
  filterNames?: readonly string[];
  rowKey?: string | ((row: T) => string | number);
  sortable?: boolean;
  onRow?: (row: T) => React.HTMLAttributes<HTMLElement>;
  caption?: string;
  /** What an empty list says (default: the shared "nothing here yet"). */
  emptyText?: string;
}

/** A table paged, sorted and filtered by the server, its state in the URL. */
export function ServerTable<T extends object>({
  queryKey,
  fetch,
  columns,
  filterNames = [],
  rowKey = "id",
  sortable = true,
  onRow,
  caption,
  emptyText,
}: ServerTableProps<T>) {
  const { t } = useTranslation();
  const { list, update } = useListParams(filterNames);
  const query = useQuery({
    queryKey: [...queryKey, list],
    queryFn: () => fetch(list),
    placeholderData: keepPreviousData,
  });
  const sortOrder = (key: string) => {
    if (!list.sort) return null;
    if (list.sort === key) return "ascend" as const;
    if (list.sort === `-${key}`) return "descend" as const;
    return null;
  };
  const cols = columns.map((c) => {
    const key = (c as { dataIndex?: string }).dataIndex ?? (c.key as string | undefined);
    if (!sortable || !c.sorter || typeof key !== "string") return c;
    return { ...c, sortOrder: sortOrder(key) };
  });
  const onChange = (pagination: TablePaginationConfig, _filters: unknown, sorter: SorterResult<T> | SorterResult<T>[]) => {
    const s = Array.isArray(sorter) ? sorter[0] : sorter;
    const field = (s?.column as { dataIndex?: string } | undefined)?.dataIndex ?? (s?.columnKey as string | undefined);
    const sort = s?.order && field ? `${s.order === "descend" ? "-" : ""}${field}` : null;
    const sortChanged = (sort ?? undefined) !== list.sort;
    update(
      {
        page: sortChanged ? null : pagination.current,
        page_size: pagination.pageSize === 20 ? null : pagination.pageSize,
        sort,
      },
      false,
    );
  };
  return (
    <>
      <ErrorAlert error={query.error} />
      <Table<T>
        size="middle"
        rowKey={rowKey as never}
        columns={cols}
        dataSource={query.data?.items ?? []}
        loading={query.isLoading || query.isFetching}
        onChange={onChange}
        onRow={onRow}
        scroll={{ x: "max-content" }}
        aria-label={caption}
        locale={{ emptyText: query.isLoading ? t("common.loading") : (emptyText ?? t("common.empty")) }}
        pagination={{
          current: list.page,
          pageSize: list.page_size,
          total: query.data?.total ?? 0,
          showSizeChanger: true,
          showTotal: (total) => t("common.total", { count: total }),
        }}
      />
    </>
  );
}

/** The list parameters as the gateway's query string: page, page_size, sort and the filters. */
export function listQuery(params: ListParams, sortKnown = false): Record<string, string | number> {
  const q: Record<string, string | number> = { page: params.page, page_size: params.page_size, ...params.filters };
  if (sortKnown && params.sort) q.sort = params.sort;
  return q;
}
