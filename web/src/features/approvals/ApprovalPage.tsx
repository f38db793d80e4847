// /approvals/:id — one request: the document's summary and link, its steps, every decision (who,
// decision, opinion, when), earlier requests of the same document; Approve / Reject when the caller
// may decide now, Withdraw for the submitter, and the approval sheet PDF.
import { FilePdfOutlined } from "@ant-design/icons";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Button, Card, Col, Descriptions, Empty, Row, Skeleton, Steps, Table, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link, useParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { ErrorAlert, useErrorText } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { DateText, Money, StatusTag } from "../../shared/components/values";
import { decide, documentLink, documentName, getApproval, sheetPdf, withdraw, type ApprovalDetail } from "./api";
import { DecisionDialog } from "./DecisionDialog";

type Decision = ApprovalDetail["decisions"][number];
type Line = { id?: number; sku?: string; product_name?: string; serial_number?: string | null; quantity?: string; unit_price?: string; amount?: string };

export default function ApprovalPage() {
  const { t } = useTranslation();
  const { id = "" } = useParams();
  const { user } = useAuth();
  const { message, modal } = App.useApp();
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const [deciding, setDeciding] = useState<"approve" | "reject" | null>(null);
  const query = useQuery({ queryKey: ["approvals", "one", id], queryFn: () => getApproval(id) });
  if (!query.data) return query.error ? <ErrorAlert error={query.error} /> : <Skeleton active />;
  const a = query.data;
  const link = documentLink(a);
  const details = (a.details ?? {}) as Record<string, unknown>;
  const lines = (Array.isArray(details.lines) ? details.lines : []) as Line[];
  const currency = a.currency ?? (details.currency as string | undefined) ?? null;
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ["approvals"] }),
      queryClient.invalidateQueries({ queryKey: ["contract"] }),
      queryClient.invalidateQueries({ queryKey: ["contracts"] }),
    ]);
  const canWithdraw = a.status === "pending" && user && a.submitter === user.id;

  return (
    <>
      <PageHeader
        title={
          <>
            {t("approvals.requestN", { id: a.id })} <StatusTag status={a.status} />
          </>
        }
        subtitle={a.summary ?? undefined}
        extra={
          <>
            {a.may_decide && a.status === "pending" ? (
              <>
                <Button type="primary" onClick={() => setDeciding("approve")} data-testid="approve">
                  {t("approvals.approve")}
                </Button>
                <Button danger onClick={() => setDeciding("reject")} data-testid="reject">
                  {t("approvals.reject")}
                </Button>
              </>
            ) : null}
            {canWithdraw ? (
              <Button
                onClick={() =>
                  modal.confirm({
                    title: t("approvals.withdrawConfirm"),
                    okText: t("common.yes"),
                    cancelText: t("common.no"),
                    okButtonProps: { danger: true },
                    onOk: async () => {
                      try {
                        await withdraw(a.id);
                        message.success(t("approvals.withdrawn"));
                        await refresh();
                      } catch (e) {
                        modal.error({ title: errorText(e) });
                      }
                    },
                  })
                }
              >
                {t("approvals.withdraw")}
              </Button>
            ) : null}
            <Button icon={<FilePdfOutlined />} onClick={() => void sheetPdf(a.id).catch((e: unknown) => message.error(errorText(e)))} data-testid="approval-sheet">
              {t("approvals.sheet")}
            </Button>
          </>
        }
      />
      <Row gutter={[16, 16]}>
        <Col xs={24} lg={12}>
          <Card size="small" title={t("approvals.document")}>
            <Descriptions
              size="small"
              column={1}
              items={[
                { key: "type", label: t("approvals.documentType"), children: t(`approvals.types.${a.document_type}`, { defaultValue: a.document_type }) },
                { key: "doc", label: t("approvals.document"), children: link ? <Link to={link}>{documentName(a)}</Link> : documentName(a) },
                ...(details.customer_name ? [{ key: "cust", label: t("common.customer"), children: String(details.customer_name) }] : []),
                ...(details.title ? [{ key: "title", label: t("approvals.docTitle"), children: String(details.title) }] : []),
                ...(details.start_date
                  ? [{ key: "term", label: t("approvals.term"), children: (
                        <span>
                          <DateText value={String(details.start_date)} />
                          {" → "}
                          <DateText value={String(details.end_date ?? "")} />
                        </span>
                      ),
                    },
                  ]
                  : []),
                { key: "amount", label: t("common.amount"), children: a.amount ? <Money amount={a.amount} currency={a.currency} /> : "—" },
                ...(a.contract_kind ? [{ key: "kind", label: t("approvals.contractKind"), children: t(`approvals.kinds.${a.contract_kind}`, { defaultValue: a.contract_kind }) }] : []),
                ...(a.department ? [{ key: "dept", label: t("approvals.department"), children: a.department }] : []),
                { key: "sub", label: t("approvals.submitter"), children: a.submitter ? `#${a.submitter}` : "—" },
                { key: "created", label: t("approvals.submitted"), children: <DateText value={a.created_at} time /> },
                { key: "flow", label: t("approvals.flow"), children: a.flow.id === null ? t("approvals.defaultFlow") : `${a.flow.name ?? ""} v${a.flow.version ?? ""}` },
              ]}
            />
          </Card>
        </Col>
        <Col xs={24} lg={12}>
          <Card size="small" title={t("approvals.steps")}>
            <Steps
              size="small"
              orientation="vertical"
              current={Math.max(0, a.steps.findIndex((s) => s.status === "pending"))}
              items={a.steps.map((s) => ({
                title: s.name,
                description: (
                  <>
                    {t(`approvals.stepStatus.${s.status}`, { defaultValue: s.status })} · {t(`approvals.modes.${s.mode}`, { defaultValue: s.mode })}
                    {s.roles.length ? ` · ${s.roles.map((r) => t(`roles.${r}`, { defaultValue: r })).join(", ")}` : ""}
                    {s.users.length ? ` · ${s.users.map((u) => `#${u}`).join(", ")}` : ""}
                    {s.department_head ? ` · ${t("approvals.departmentHead")}` : ""}
                    {s.due_at && s.status === "pending" ? (
                      <>
                        {" · "}
                        {t("approvals.due")} <DateText value={s.due_at} time />
                      </>
                    ) : null}
                  </>
                ),
                status: s.status === "approved" ? "finish" : s.status === "rejected" ? "error" : s.status === "pending" ? "process" : "wait",
              }))}
            />
          </Card>
        </Col>
        {lines.length ? (
          <Col xs={24}>
            <Card size="small" title={t("approvals.lines")}>
              <Table<Line>
                size="small"
                rowKey={(l) => String(l.id ?? l.sku)}
                pagination={false}
                scroll={{ x: "max-content" }}
                dataSource={lines}
                columns={[
                  { title: "SKU", dataIndex: "sku" },
                  { title: t("approvals.product"), dataIndex: "product_name" },
                  { title: t("approvals.serial"), dataIndex: "serial_number", render: (v: string | null) => v ?? "—" },
                  { title: t("common.quantity"), dataIndex: "quantity", align: "right" },
                  { title: t("common.price"), dataIndex: "unit_price", align: "right", render: (v: string) => <Money amount={v} currency={currency} /> },
                  { title: t("common.amount"), dataIndex: "amount", align: "right", render: (v: string) => <Money amount={v} currency={currency} /> },
                ]}
              />
            </Card>
          </Col>
        ) : null}
        <Col xs={24}>
          <Card size="small" title={t("approvals.decisions")}>
            <Table<Decision>
              size="small"
              rowKey="id"
              pagination={false}
              scroll={{ x: "max-content" }}
              dataSource={a.decisions}
              locale={{ emptyText: <Empty description={t("approvals.noDecisions")} /> }}
              columns={[
                { title: t("approvals.who"), key: "who", render: (_: unknown, d) => d.username ?? (d.user ? `#${d.user}` : "—") },
                { title: t("approvals.step"), dataIndex: "step_name" },
                { title: t("approvals.decision"), dataIndex: "decision", render: (v: string) => <StatusTag status={v === "approve" ? "approved" : "rejected"} /> },
                { title: t("approvals.opinion"), dataIndex: "comment", render: (v: string | null) => (v ? <Typography.Text>{v}</Typography.Text> : "—") },
                ...(a.document_type === "trade_in"
                  ? [
                      {
                        title: t("approvals.approvedValue"),
                        key: "approved_value",
                        render: (_: unknown, d: Decision) => {
                          const value = d.approved_value;
                          return value ? `${value} ${a.currency ?? ""}`.trim() : "—";
                        },
                      },
                    ]
                  : []),
                { title: t("approvals.when"), dataIndex: "decided_at", render: (v: string) => <DateText value={v} time /> },
              ]}
            />
          </Card>
        </Col>
        {a.history.length ? (
          <Col xs={24}>
            <Card size="small" title={t("approvals.history")}>
              {a.history.map((h) => (
                <div key={h.id} style={{ marginBottom: 8 }}>
                  <Link to={`/approvals/${h.id}`}>{t("approvals.requestN", { id: h.id })}</Link> <StatusTag status={h.status} /> <DateText value={h.created_at} time />
                  {h.decisions.map((d) => (
                    <div key={d.id} style={{ paddingLeft: 16 }}>
                      {d.username ?? `#${d.user}`}: {d.decision === "approve" ? t("approvals.approvedIt") : t("approvals.rejectedIt")}
                      {d.comment ? ` — “${d.comment}”` : ""}
                    </div>
                  ))}
                </div>
              ))}
            </Card>
          </Col>
        ) : null}
      </Row>
      {deciding ? (
        <DecisionDialog
          decision={deciding}
          summary={a.summary}
          valuation={a.document_type === "trade_in" ? { requested: a.amount ?? null, currency: a.currency ?? null } : null}
          onClose={() => setDeciding(null)}
          onSend={async (body) => {
            await decide(a.id, body);
            message.success(body.decision === "approve" ? t("approvals.approved") : t("approvals.rejected"));
            await refresh();
          }}
        />
      ) : null}
    </>
  );
}
