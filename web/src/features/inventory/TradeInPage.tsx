import { CheckOutlined, CloseOutlined, ImportOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Descriptions, Form, Input, Modal, Skeleton } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money } from "../../shared/components/values";
import { decideTradeIn, getTradeIn, receiveTradeIn } from "./api";
import { CustomerLink, InvStatus, ProductLink, unitPath } from "./common";
import { ProductSelect, WarehouseSelect } from "./pickers";
import { MONEY_RULE } from "./rules";

type Dialog = "approve" | "reject" | "receive";

export default function TradeInPage() {
  const { id = "" } = useParams();
  const { t } = useTranslation();
  const { can } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const [form] = Form.useForm();
  const [dialog, setDialog] = useState<Dialog | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const tradeIn = useQuery({ queryKey: ["inventory", "trade-ins", id], queryFn: () => getTradeIn(id) });
  if (tradeIn.isLoading) return <Skeleton active />;
  if (!tradeIn.data) return <ErrorAlert error={tradeIn.error} />;
  const ti = tradeIn.data;
  const required = { required: true, message: t("inventory.required") };

  const close = () => {
    setDialog(null);
    setError(null);
  };
  const submit = async (values: { approved_value?: string; comment?: string; warehouse_id?: number; product_id?: number }) => {
    setBusy(true);
    setError(null);
    try {
      if (dialog === "receive") {
        const out = await receiveTradeIn(ti.id, { warehouse_id: values.warehouse_id as number, product_id: values.product_id ?? null });
        message.success(t("inventory.tradeIn.receivedMsg", { onHand: out.move.stock.on_hand }));
      } else {
        await decideTradeIn(ti.id, {
          approved: dialog === "approve",
          approved_value: dialog === "approve" ? values.approved_value?.trim() || null : null,
          comment: values.comment?.trim() || null,
        });
        message.success(t(dialog === "approve" ? "inventory.tradeIn.approvedMsg" : "inventory.tradeIn.rejectedMsg"));
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

  const canDecide = ti.status === "submitted" && can("tradeIns.decide");
  const canReceive = ti.status === "approved" && can("stock.move");
  return (
    <>
      <PageHeader
        title={`${t("inventory.tradeIn.one")} #${ti.id}`}
        subtitle={`${ti.serial_number}${ti.model ? ` · ${ti.model}` : ""}`}
        extra={
          <>
            {canDecide ? (
              <>
                <Button type="primary" icon={<CheckOutlined />} onClick={() => setDialog("approve")}>
                  {t("inventory.tradeIn.approve")}
                </Button>
                <Button danger icon={<CloseOutlined />} onClick={() => setDialog("reject")}>
                  {t("inventory.tradeIn.reject")}
                </Button>
              </>
            ) : null}
            {canReceive ? (
              <Button type="primary" icon={<ImportOutlined />} onClick={() => setDialog("receive")}>
                {t("inventory.tradeIn.receive")}
              </Button>
            ) : null}
          </>
        }
      />
      <Card>
        <Descriptions column={{ xs: 1, sm: 2, lg: 3 }} bordered size="small">
          <Descriptions.Item label={t("common.status")}>
            <InvStatus status={ti.status} />
          </Descriptions.Item>
          <Descriptions.Item label={t("common.customer")}>
            <CustomerLink id={ti.customer_id} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.product")}>
            <ProductLink id={ti.product_id} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.product.model")}>{ti.model ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.unit.serial")}>
            {ti.status === "received" ? <Link to={unitPath(ti.serial_number)}>{ti.serial_number}</Link> : ti.serial_number}
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.unit.manufacturingNumber")}>{ti.manufacturing_number ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.condition")}>{t(`inventory.condition.${ti.condition}`)}</Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.requested")}>
            <Money amount={ti.requested_value} currency={ti.currency} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.approvedValue")}>
            {ti.approved_value ? <Money amount={ti.approved_value} currency={ti.currency} /> : "—"}
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.against")}>
            <ProductLink id={ti.against_product_id} />
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.submittedBy")}>{ti.submitted_by ?? "—"}</Descriptions.Item>
          <Descriptions.Item label={t("common.createdAt")}>
            <DateText value={ti.created_at} time />
          </Descriptions.Item>
          <Descriptions.Item label={t("common.notes")} span="filled">
            <span style={{ whiteSpace: "pre-wrap" }}>{ti.notes ?? "—"}</span>
          </Descriptions.Item>
          <Descriptions.Item label={t("inventory.tradeIn.decisionComment")} span="filled">
            <span style={{ whiteSpace: "pre-wrap" }}>{ti.decision_comment ?? "—"}</span>
          </Descriptions.Item>
        </Descriptions>
      </Card>
      <Modal
        open={dialog !== null}
        title={dialog ? t(`inventory.tradeIn.${dialog}Title`, { serial: ti.serial_number }) : ""}
        okText={dialog ? t(`inventory.tradeIn.${dialog}`) : ""}
        okButtonProps={{ loading: busy, danger: dialog === "reject" }}
        cancelText={t("common.cancel")}
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
          initialValues={{ approved_value: ti.requested_value, product_id: ti.product_id ?? undefined }}
        >
          {dialog === "approve" ? (
            <Form.Item
              name="approved_value"
              label={`${t("inventory.tradeIn.approvedValue")} (${ti.currency})`}
              rules={[required, { ...MONEY_RULE, message: t("inventory.badMoney") }]}
            >
              <Input inputMode="decimal" />
            </Form.Item>
          ) : null}
          {dialog === "approve" || dialog === "reject" ? (
            <Form.Item
              name="comment"
              label={t("common.comment")}
              rules={dialog === "reject" ? [{ ...required, whitespace: true }] : []}
            >
              <Input.TextArea rows={3} maxLength={2000} />
            </Form.Item>
          ) : null}
          {dialog === "receive" ? (
            <>
              <Form.Item name="warehouse_id" label={t("inventory.warehouse.one")} rules={[required]}>
                <WarehouseSelect />
              </Form.Item>
              <Form.Item
                name="product_id"
                label={t("inventory.tradeIn.receiveAs")}
                rules={ti.product_id ? [] : [required]}
                extra={t("inventory.tradeIn.receiveAsHelp")}
              >
                <ProductSelect />
              </Form.Item>
            </>
          ) : null}
        </Form>
      </Modal>
    </>
  );
}
