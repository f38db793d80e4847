import { useQueryClient } from "@tanstack/react-query";
import { App, Button, Checkbox, Flex, Form, Input, Modal, Select, Space, Tag, Typography, type TableColumnsType } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { ServerTable, useListParams } from "../../shared/components/ServerTable";
import { dispatchReservations, listReservations, releaseReservations, RESERVATION_FILTERS, type Reservation } from "./api";
import { ContractLink, InvStatus, ProductLink, unitPath } from "./common";
import { ContractSelect, ProductSelect, useWarehouseName } from "./pickers";

type Action = { kind: "dispatch" | "release"; contractId: number | string };

export default function ReservationsPage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const warehouseName = useWarehouseName();
  const { list, update } = useListParams(RESERVATION_FILTERS);
  const f = list.filters;
  const [action, setAction] = useState<Action | null>(null);
  const [lease, setLease] = useState(false);
  const [reason, setReason] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);

  // the contract's number, as ContractLink fetched it for the row
  const contractName = (id: number | string) =>
    queryClient.getQueryData<{ number?: string }>(["inventory", "contract", String(id)])?.number ?? `#${id}`;

  const close = () => {
    setAction(null);
    setLease(false);
    setReason("");
    setError(null);
  };
  const run = async () => {
    if (!action) return;
    setBusy(true);
    setError(null);
    try {
      if (action.kind === "dispatch") {
        const out = await dispatchReservations(action.contractId, lease);
        message.success(t("inventory.reservation.dispatched", { count: out.moves.length }));
      } else {
        const out = await releaseReservations(action.contractId, reason.trim());
        message.success(t("inventory.reservation.released", { count: out.released.length }));
      }
      await queryClient.invalidateQueries({ queryKey: ["inventory"] });
      close();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  const actionsColumn: TableColumnsType<Reservation>[number] = {
    title: t("common.actions"),
    key: "actions",
    render: (_: unknown, row) =>
      row.status === "active" ? (
        <Space wrap>
          {can("stock.move") ? (
            <Button size="small" type="primary" onClick={() => setAction({ kind: "dispatch", contractId: row.contract_id })}>
              {t("inventory.reservation.dispatch")}
            </Button>
          ) : null}
          {can("stock.reserve") ? (
            <Button size="small" danger onClick={() => setAction({ kind: "release", contractId: row.contract_id })}>
              {t("inventory.reservation.release")}
            </Button>
          ) : null}
        </Space>
      ) : null,
  };

  return (
    <>
      <PageHeader title={t("inventory.tabs.reservations")} />
      <Flex gap={8} wrap style={{ marginBottom: 12 }} role="search">
        <ContractSelect
          aria-label={t("common.contract")}
          value={f.contract_id ? Number(f.contract_id) : undefined}
          onChange={(v) => update({ contract_id: v ?? null })}
          style={{ width: 260, maxWidth: "100%" }}
        />
        <ProductSelect
          aria-label={t("inventory.product.one")}
          value={f.product_id ? Number(f.product_id) : undefined}
          onChange={(v) => update({ product_id: v ?? null })}
          style={{ width: 280, maxWidth: "100%" }}
        />
        <Select
          aria-label={t("common.status")}
          placeholder={t("common.status")}
          allowClear
          value={f.status}
          onChange={(status) => update({ status })}
          options={["active", "released", "dispatched"].map((s) => ({ value: s, label: t(`inventory.status.${s}`) }))}
          style={{ width: 160 }}
        />
      </Flex>
      <ServerTable<Reservation>
        caption={t("inventory.tabs.reservations")}
        queryKey={["inventory", "reservations"]}
        fetch={listReservations as never}
        filterNames={RESERVATION_FILTERS}
        sortable={false}
        columns={[
          { title: t("common.contract"), dataIndex: "contract_id", render: (c) => <ContractLink id={c} /> },
          { title: t("inventory.product.one"), dataIndex: "product_id", render: (p: number) => <ProductLink id={p} /> },
          { title: t("inventory.warehouse.one"), dataIndex: "warehouse_id", render: warehouseName },
          { title: t("common.quantity"), dataIndex: "quantity", align: "right" },
          {
            title: t("inventory.move.serials"),
            dataIndex: "serial_numbers",
            render: (serials: string[]) =>
              serials.length
                ? serials.map((s) => (
                    <Tag key={s}>
                      <Link to={unitPath(s)}>{s}</Link>
                    </Tag>
                  ))
                : "—",
          },
          { title: t("common.status"), dataIndex: "status", render: (s: string) => <InvStatus status={s} /> },
          ...(can("stock.move") || can("stock.reserve") ? [actionsColumn] : []),
        ]}
      />
      <Modal
        open={action !== null}
        title={action ? t(`inventory.reservation.${action.kind}Title`, { contract: contractName(action.contractId) }) : ""}
        okText={action ? t(`inventory.reservation.${action.kind}`) : ""}
        okButtonProps={{ danger: action?.kind === "release", loading: busy }}
        cancelText={t("common.cancel")}
        onOk={run}
        onCancel={close}
        destroyOnHidden
      >
        <ErrorAlert error={error} />
        {action ? (
          <Typography.Paragraph>{t(`inventory.reservation.${action.kind}Text`, { contract: contractName(action.contractId) })}</Typography.Paragraph>
        ) : null}
        {action?.kind === "dispatch" ? (
          <Checkbox checked={lease} onChange={(e) => setLease(e.target.checked)}>
            {t("inventory.reservation.lease")}
          </Checkbox>
        ) : null}
        {action?.kind === "release" ? (
          <Form layout="vertical">
            <Form.Item label={t("inventory.reservation.reason")} htmlFor="release-reason">
              <Input.TextArea id="release-reason" rows={2} value={reason} onChange={(e) => setReason(e.target.value)} maxLength={2000} />
            </Form.Item>
          </Form>
        ) : null}
      </Modal>
    </>
  );
}
