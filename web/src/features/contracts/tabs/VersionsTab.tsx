// The versions of a contract and a side-by-side diff of any two (`/versions/{a}/diff/{b}`).
import { useQuery } from "@tanstack/react-query";
import { Card, Col, Empty, Flex, Row, Select, Skeleton, Table, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { ErrorAlert } from "../../../shared/components/errors";
import { DateText } from "../../../shared/components/values";
import { diffVersions, type ContractDetail, type VersionInfo } from "../api";

function show(value: unknown): string {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

const FIELD_LABELS: Record<string, string> = {
  title: "contracts.title",
  total: "contracts.periodTotal",
  term_value: "contracts.termValue",
  start_date: "contracts.start",
  end_date: "contracts.end",
  signer: "contracts.signer",
  signer_title: "contracts.signerTitle",
  signed_on: "contracts.signedOn",
  billing: "contracts.frequency",
  auto_renew: "contracts.autoRenew",
  renewal_uplift_percent: "contracts.uplift",
  notice_days: "contracts.noticeDays",
  owner_id: "common.owner",
  department: "contracts.department",
  notes: "common.notes",
  field_values: "contracts.templateFields",
  currency: "common.currency",
  status: "common.status",
};

const lineLabel = (l: Record<string, unknown>) =>
  [l.sku, l.product_name, l.serial_number].filter(Boolean).join(" · ") + ` × ${show(l.quantity)} @ ${show(l.unit_price)}`;

export function VersionsTab({ contract }: { contract: ContractDetail }) {
  const { t } = useTranslation();
  const versions = [...contract.versions].sort((x, y) => x.version - y.version);
  const last = versions.length ? versions[versions.length - 1].version : undefined;
  const [a, setA] = useState<number | undefined>(versions.length > 1 ? versions[versions.length - 2].version : undefined);
  const [b, setB] = useState<number | undefined>(last);
  const diff = useQuery({
    queryKey: ["contract", String(contract.id), "diff", a, b],
    queryFn: () => diffVersions(contract.id, a as number, b as number),
    enabled: a !== undefined && b !== undefined && a !== b,
  });
  const options = versions.map((v) => ({ value: v.version, label: `v${v.version} · ${t(`contracts.versionKinds.${v.kind}`, { defaultValue: v.kind })}` }));
  const d = diff.data;
  const fieldRows = d ? Object.entries(d.fields).map(([field, change]) => ({ field, from: show(change.from), to: show(change.to) })) : [];
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} lg={10}>
        <Table<VersionInfo>
          size="small"
          rowKey="version"
          pagination={false}
          scroll={{ x: "max-content" }}
          dataSource={[...versions].reverse()}
          locale={{ emptyText: t("contracts.noVersions") }}
          columns={[
            { title: t("contracts.version"), dataIndex: "version", render: (v: number) => `v${v}` },
            { title: t("contracts.versionKind"), dataIndex: "kind", render: (k: string) => t(`contracts.versionKinds.${k}`, { defaultValue: k }) },
            { title: t("contracts.reason"), dataIndex: "reason", render: (v: string | null) => v ?? "—" },
            { title: t("contracts.effectiveDate"), dataIndex: "effective_date", render: (v: string | null) => <DateText value={v} /> },
            { title: t("common.createdAt"), dataIndex: "created_at", render: (v: string) => <DateText value={v} time /> },
          ]}
        />
      </Col>
      <Col xs={24} lg={14}>
        <Card size="small" title={t("contracts.compare")}>
          {versions.length < 2 ? (
            <Empty description={t("contracts.oneVersion")} />
          ) : (
            <>
              <Flex gap={8} wrap align="center" style={{ marginBottom: 12 }}>
                <Select aria-label={t("contracts.fromVersion")} value={a} onChange={setA} options={options} style={{ minWidth: 160 }} />
                <span>→</span>
                <Select aria-label={t("contracts.toVersion")} value={b} onChange={setB} options={options} style={{ minWidth: 160 }} />
              </Flex>
              <ErrorAlert error={diff.error} />
              {diff.isLoading ? <Skeleton active /> : null}
              {d ? (
                <>
                  <Table
                    size="small"
                    rowKey="field"
                    pagination={false}
                    scroll={{ x: "max-content" }}
                    dataSource={fieldRows}
                    locale={{ emptyText: t("contracts.noFieldChanges") }}
                    columns={[
                      { title: t("contracts.field"), dataIndex: "field", render: (f: string) => (FIELD_LABELS[f] ? t(FIELD_LABELS[f]) : f) },
                      { title: `v${d.from_version}`, dataIndex: "from", render: (v: string) => <Typography.Text delete type="secondary">{v}</Typography.Text> },
                      { title: `v${d.to_version}`, dataIndex: "to", render: (v: string) => <Typography.Text strong>{v}</Typography.Text> },
                    ]}
                  />
                  <Typography.Title level={5} style={{ marginTop: 16 }}>
                    {t("contracts.stepLines")}
                  </Typography.Title>
                  {d.lines.added.map((l, i) => (
                    <div key={`a${i}`}>
                      <Tag color="green">{t("contracts.added")}</Tag> {lineLabel(l)}
                    </div>
                  ))}
                  {d.lines.removed.map((l, i) => (
                    <div key={`r${i}`}>
                      <Tag color="red">{t("contracts.removed")}</Tag> {lineLabel(l)}
                    </div>
                  ))}
                  {d.lines.changed.map((l) => (
                    <div key={`c${l.id}`}>
                      <Tag color="blue">{t("contracts.changed")}</Tag> {l.product_name ?? `#${l.id}`}:{" "}
                      {Object.entries(l.changes)
                        .map(([k, ch]) => `${k} ${show(ch.from)} → ${show(ch.to)}`)
                        .join("; ")}
                    </div>
                  ))}
                  {!d.lines.added.length && !d.lines.removed.length && !d.lines.changed.length ? (
                    <Typography.Text type="secondary">{t("contracts.noLineChanges")}</Typography.Text>
                  ) : null}
                </>
              ) : null}
            </>
          )}
        </Card>
      </Col>
    </Row>
  );
}
