import { CloseCircleOutlined, ImportOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Descriptions, Form, Input, InputNumber, Modal, Skeleton } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText } from "../../shared/components/values";
import { cancelPurchaseOrder, getProduct, getPurchaseOrder, receivePurchaseOrder } from "./api";
import { InvStatus } from "./common";
import { useWarehouseName, WarehouseSelect } from "./pickers";
import { parseSerials, serialProblem } from "./StockMoveForm";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export default function PurchaseOrderPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const warehouseName = useWarehouseName();
  const [dialog, setDialog] = useState<"receive" | "cancel" | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const idempotency = useIdempotencyKey(dialog === "receive");
  const [form] = Form.useForm();
  const po = useQuery({ queryKey: ["inventory", "purchase-orders", id], queryFn: () => getPurchaseOrder(id) });
  const product = useQuery({
    queryKey: ["inventory", "product", po.data?.product_id],
    queryFn: () => getProduct(po.data!.product_id),
    enabled: !!po.data,
  });
  if (po.isLoading) return <Skeleton active />;
  if (!po.data) return <ErrorAlert error={po.error} />;
  const p = po.data;
  const serialized = !!product.data?.serialized;
  const required = { required: true, message: t("inventory.required") };

  const close = () => {
    setDialog(null);
    setError(null);
  };
  const submit = async (values: { warehouse_id?: number; quantity?: number; serials?: string; reason?: string }) => {
    setBusy(true);
    setError(null);
    try {
      if (dialog === "receive") {
        const out = await receivePurchaseOrder(p.id, {
          warehouse_id: values.warehouse_id ?? null,
          quantity: values.quantity ?? null,
          serial_numbers: serialized ? parseSerials(values.serials) : [],
        }, idempotency.key);
        idempotency.renew();
        message.success(t("inventory.po.receivedMsg", { count: out.received_quantity, onHand: out.move.stock.on_hand }));
      } else {
        await cancelPurchaseOrder(p.id, values.reason?.trim());
        message.success(t("inventory.po.cancelledMsg", { number: p.number }));
      }
      await queryClient.invalidateQueries({ queryKey: ["inventory"] });
      close();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <>
      <PageHeader
        title={`${t("inventory.po.one")} ${p.number}`}
        subtitle={`${p.sku} · ${p.product_name}`}
        extra={
          p.status === "open" && can("stock.move") ? (
            <>
              <Button type="primary" icon={<ImportOutlined />} onClick={() => setDialog("receive")}>
                {t("inventory.po.receive")}
              </Button>
              <Button danger icon={<CloseCircleOutlined />} onClick={() => setDialog("cancel")}>
                {t("inventory.po.cancel")}
              </Button>
            </>
          ) : null
        }
      />
      <Card>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} bordered size="small">
          <Descriptions.Item label={t("common.number")}>{p.number}</Descriptions.Item>
          <Descriptions.Item label={t("common.status")}>
            <InvStatus status={p.status} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.one")}>
            <Link to={`/inventory/products/${p.product_id}`}>
              {p.sku} · {p.product_name}
            </Link>
          </Descriptions.Item>
          <Descriptions.Item label={t("common.quantity")}>{p.quantity}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.po.partner")}>{p.partner ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.po.deliverTo")}>{warehouseName(p.warehouse_id)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.po.trigger")}>{t(`inventory.po.triggers.${p.trigger}`)}</Descriptions.Item>
          <Descriptions.Item label={t("common.createdAt")}>
            <DateText value={p.created_at} time />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.po.receivedAt")}>
            {p.received_at ? <DateText value={p.received_at} time /> : "—"}
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Modal
        open={dialog !== null}
        title={dialog === "receive" ? t("inventory.po.receiveTitle", { number: p.number }) : t("inventory.po.cancelTitle", { number: p.number })}
        okText={dialog === "receive" ? t("inventory.po.receive") : t("inventory.po.cancel")}
        okButtonProps={{ loading: busy, danger: dialog === "cancel" }}
        cancelText={t("common.close")}
        onOk={() => form.submit()}
        onCancel={close}
        destroyOnHidden
      >
        <ErrorAlert error={error} />
        <Form
          form={form}
          layout="vertical"
          onFinish={submit}
          preserve={false}
          initialValues={{ warehouse_id: p.warehouse_id ?? undefined, quantity: p.quantity }}
        >
          {dialog === "receive" ? (
            <>
              <Form.Item name="warehouse_id" label={t("inventory.warehouse.one")} rules={[required]}>
                <WarehouseSelect />
              </Form.Item>
              <Form.Item name="quantity" label={t("inventory.po.receivedQuantity")} rules={[required]}>
                <InputNumber min={1} max={p.quantity} precision={0} style={{ width: "100%" }} />
              </Form.Item>
              {serialized ? (
                <Form.Item
                  name="serials"
                  label={t("inventory.move.serials")}
                  extra={t("inventory.move.serialsHelp")}
                  dependencies={["quantity"]}
                  rules={[
                    required,
                    {
                      validator: async (_, value: string | undefined) => {
                        const problem = serialProblem(parseSerials(value), form.getFieldValue("quantity") as number);
                        if (problem) throw new Error(t(problem.key, problem.values));
                      },
                    },
                  ]}
                >
                  <Input.TextArea rows={4} spellCheck={false} style={{ fontFamily: "monospace" }} />
                </Form.Item>
              ) : null}
            </>
          ) : (
            <>
              <p>{t("inventory.po.cancelText")}</p>
              <Form.Item name="reason" label={t("inventory.reservation.reason")}>
                <Input.TextArea rows={2} maxLength={2000} />
              </Form.Item>
            </>
          )}
        </Form>
      </Modal>
    </>
  );
}
