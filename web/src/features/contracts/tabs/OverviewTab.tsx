import { Card, Col, Descriptions, Row, Skeleton, Tag } from "antd";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useAuth } from "../../../shared/auth/AuthProvider";
import { DateText, Money, StatusTag } from "../../../shared/components/values";
import type { ContractDetail, ContractOverview } from "../api";

export function OverviewTab({ contract: c, overview, loading }: { contract: ContractDetail; overview?: ContractOverview; loading: boolean }) {
  const { t } = useTranslation();
  const { user } = useAuth();
  const yes = (v: boolean) => (v ? t("common.yes") : t("common.no"));
  const customer = overview?.customer;
  const fields = Object.entries(c.field_values ?? {});
  const units = overview?.units?.items ?? [];
  const serials = c.lines.map((l) => l.serial_number).filter((s): s is string => Boolean(s));
  return (
    <Row gutter={[16, 16]}>
      <Col xs={24} lg={12}>
        <Card size="small" title={t("contracts.parties")}>
          <Descriptions
            size="small"
            column={1}
            items={[
              {
                key: "customer",
                label: t("common.customer"),
                children: (
                  <Link to={`/customers/${c.customer_id}`}>
                    {c.customer.code ? `${c.customer.code} · ` : ""}
                    {c.customer.name}
                  </Link>
                ),
              },
              ...(customer
                ? [
                    { key: "email", label: t("contracts.customerEmail"), children: customer.email ?? "—" },
                    { key: "phone", label: t("contracts.customerPhone"), children: customer.phone ?? "—" },
                  ]
                : []),
              { key: "signer", label: t("contracts.signer"), children: [c.signer, c.signer_title].filter(Boolean).join(", ") || "—" },
              { key: "signed", label: t("contracts.signedOn"), children: <DateText value={c.signed_on} /> },
              {
                key: "owner",
                label: t("common.owner"),
                children: c.owner_id && user && c.owner_id === user.id ? user.full_name || user.username : c.owner_id ? `#${c.owner_id}` : "—",
              },
              { key: "dept", label: t("contracts.department"), children: c.department ?? "—" },
              { key: "created", label: t("common.createdAt"), children: <DateText value={c.created_at} time /> },
            ]}
          />
        </Card>
      </Col>
      <Col xs={24} lg={12}>
        <Card size="small" title={t("contracts.terms")}>
          <Descriptions
            size="small"
            column={1}
            items={[
              { key: "status", label: t("common.status"), children: <StatusTag status={c.status} /> },
              { key: "kind", label: t("contracts.kind"), children: t(`contracts.kinds.${c.kind}`, { defaultValue: c.kind }) },
              { key: "term", label: t("contracts.term"), children: (
                  <span>
                    <DateText value={c.start_date} />
                    {" → "}
                    <DateText value={c.end_date} />
                  </span>
                ),
              },
              { key: "termination", label: t("contracts.terminationDate"), children: <DateText value={c.termination_date} /> },
              {
                key: "notice",
                label: t("contracts.noticeDays"),
                children: (
                  <span>
                    {c.notice_days}
                    {` · ${t("contracts.deadline")}: `}
                    <DateText value={c.notice_deadline} />
                  </span>
                ),
              },
              { key: "version", label: t("contracts.version"), children: c.version },
            ]}
          />
        </Card>
      </Col>
      <Col xs={24} lg={12}>
        <Card size="small" title={t("contracts.amounts")}>
          <Descriptions
            size="small"
            column={1}
            items={[
              { key: "total", label: t("contracts.periodTotal"), children: <Money amount={c.total} currency={c.currency} /> },
              { key: "term", label: t("contracts.termValue"), children: <Money amount={c.term_value} currency={c.currency} /> },
              { key: "locked", label: t("contracts.amountsLocked"), children: yes(c.amounts_locked) },
            ]}
          />
        </Card>
      </Col>
      <Col xs={24} lg={12}>
        <Card size="small" title={t("contracts.billingAndRenewal")}>
          <Descriptions
            size="small"
            column={1}
            items={[
              { key: "freq", label: t("contracts.frequency"), children: t(`contracts.frequencies.${c.billing.frequency}`, { defaultValue: c.billing.frequency }) },
              { key: "adv", label: t("contracts.inAdvance"), children: yes(c.billing.in_advance) },
              { key: "terms", label: t("contracts.paymentTerms"), children: `${c.billing.payment_terms_days} ${t("contracts.days")}` },
              { key: "auto", label: t("contracts.autoRenew"), children: yes(c.auto_renew) },
              { key: "uplift", label: t("contracts.uplift"), children: `${c.renewal_uplift_percent} %` },
              ...(c.renewal_of_id
                ? [{ key: "of", label: t("contracts.renewalOf"), children: <Link to={`/contracts/${c.renewal_of_id}`}>#{c.renewal_of_id}</Link> }]
                : []),
              ...(c.renewed_by_id
                ? [{ key: "by", label: t("contracts.renewedBy"), children: <Link to={`/contracts/${c.renewed_by_id}`}>#{c.renewed_by_id}</Link> }]
                : []),
            ]}
          />
        </Card>
      </Col>
      {fields.length ? (
        <Col xs={24} lg={12}>
          <Card size="small" title={t("contracts.templateFields")}>
            <Descriptions size="small" column={1} items={fields.map(([k, v]) => ({ key: k, label: k.charAt(0).toUpperCase() + k.slice(1).replace(/_/g, " "), children: String(v ?? "—") }))} />
          </Card>
        </Col>
      ) : null}
      <Col xs={24} lg={12}>
        <Card size="small" title={t("contracts.units")}>
          {loading ? (
            <Skeleton active paragraph={{ rows: 2 }} />
          ) : units.length ? (
            units.map((u) => <Tag key={String(u.serial_number)}>{String(u.serial_number)}</Tag>)
          ) : serials.length ? (
            serials.map((s) => <Tag key={s}>{s}</Tag>)
          ) : (
            t("contracts.noUnits")
          )}
        </Card>
      </Col>
    </Row>
  );
}
