// The actions of a contract, each shown only when its status allows it and the role may take it:
// Edit and Submit (drafts), Cancel (draft, approved), Terminate (approved, active: reason and
// effective date; back-dated by a non-admin it is sent for approval), Renew (approved, active,
// expired, renewed), Archive (ended contracts), Lock / Unlock amounts (finance), and the Contract
// PDF in one click. Destructive ones ask first.
import { FilePdfOutlined } from "@ant-design/icons";
import { useQueryClient } from "@tanstack/react-query";
import { App, Button, DatePicker, Dropdown, Form, Input, Modal } from "antd";
import dayjs, { type Dayjs } from "dayjs";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { applyFieldErrors, ErrorAlert, useErrorText } from "../../shared/components/errors";
import { useIsMobile } from "../../shared/components/useIsMobile";
import {
  ARCHIVABLE,
  archiveContract,
  RED_LIST_OVERRIDERS,
  cancelContract,
  contractPdf,
  lockAmounts,
  renewContract,
  submitContract,
  terminateContract,
  unlockAmounts,
  type ContractDetail,
} from "./api";

export function ContractActions({ contract }: { contract: ContractDetail }) {
  const { t } = useTranslation();
  const { can, hasRole } = useAuth();
  const navigate = useNavigate();
  const isMobile = useIsMobile();
  const queryClient = useQueryClient();
  const errorText = useErrorText();
  const { message, modal } = App.useApp();
  const [dialog, setDialog] = useState<"terminate" | "cancel" | "override" | null>(null);
  const [pdfBusy, setPdfBusy] = useState(false);
  const s = contract.status;
  const write = can("contracts.write");

  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: ["contract", String(contract.id)] });
    await queryClient.invalidateQueries({ queryKey: ["contracts"] });
    await queryClient.invalidateQueries({ queryKey: ["approvals"] });
  };
  const run = (title: string, content: string, action: () => Promise<unknown>, done: string, danger = false) =>
    modal.confirm({
      title,
      content,
      okText: t("common.yes"),
      cancelText: t("common.no"),
      okButtonProps: { danger },
      onOk: async () => {
        try {
          await action();
          message.success(done);
          await refresh();
        } catch (e) {
          modal.error({ title: errorText(e) });
        }
      },
    });

  const pdf = async () => {
    setPdfBusy(true);
    try {
      await contractPdf(contract.id, contract.number);
    } catch (e) {
      message.error(errorText(e));
    } finally {
      setPdfBusy(false);
    }
  };

  const items: Array<{ key: string; label: string; danger?: boolean; onClick: () => void; primary?: boolean }> = [];
  // a red-listed customer's draft: a sales manager or admin submits with an override reason; a
  // rep cannot submit it at all (the banner on the page explains)
  const redListed = Boolean(contract.customer_red_listed);
  const overrider = hasRole(...RED_LIST_OVERRIDERS);
  if (write && s === "draft" && (!redListed || overrider)) {
    items.push({
      key: "submit",
      primary: true,
      label: redListed ? t("contracts.redList.submitOverride") : t("contracts.submit"),
      onClick: redListed
        ? () => setDialog("override")
        : () =>
            run(t("contracts.submitConfirm", { number: contract.number }), t("contracts.submitText"), () => submitContract(contract.id), t("contracts.submitted")),
    });
  }
  if (write && s === "draft") {
    items.push({ key: "edit", label: t("common.edit"), onClick: () => navigate(`/contracts/${contract.id}/edit`) });
  }
  if (write && ["approved", "active", "expired", "renewed"].includes(s) && !contract.renewed_by_id) {
    items.push({
      key: "renew",
      label: t("contracts.renew"),
      onClick: () =>
        run(t("contracts.renewConfirm", { number: contract.number }), t("contracts.renewText"), async () => {
          const renewal = await renewContract(contract.id, {});
          navigate(`/contracts/${renewal.id}`);
        }, t("contracts.renewed")),
    });
  }
  if (can("contracts.lock") && !["cancelled", "terminated", "expired", "archived"].includes(s)) {
    items.push(
      contract.amounts_locked
        ? {
            key: "unlock",
            label: t("contracts.unlockAmounts"),
            onClick: () => run(t("contracts.unlockConfirm"), t("contracts.unlockText"), () => unlockAmounts(contract.id), t("contracts.unlocked")),
          }
        : {
            key: "lock",
            label: t("contracts.lockAmounts"),
            onClick: () => run(t("contracts.lockConfirm"), t("contracts.lockText"), () => lockAmounts(contract.id), t("contracts.locked")),
          },
    );
  }
  if (write && ["approved", "active"].includes(s)) {
    items.push({ key: "terminate", label: t("contracts.terminate"), danger: true, onClick: () => setDialog("terminate") });
  }
  if (write && ["draft", "approved"].includes(s)) {
    items.push({ key: "cancel", label: t("contracts.cancel"), danger: true, onClick: () => setDialog("cancel") });
  }
  if (write && (ARCHIVABLE as readonly string[]).includes(s)) {
    items.push({
      key: "archive",
      label: t("contracts.archive"),
      onClick: () =>
        run(t("contracts.archiveConfirm", { number: contract.number }), t("contracts.archiveText"), () => archiveContract(contract.id), t("contracts.archived")),
    });
  }

  const primary = items.filter((i) => i.primary);
  const rest = items.filter((i) => !i.primary);
  const pdfButton = (
    <Button icon={<FilePdfOutlined />} onClick={() => void pdf()} loading={pdfBusy} data-testid="contract-pdf">
      {t("contracts.pdf")}
    </Button>
  );

  return (
    <>
      {primary.map((i) => (
        <Button key={i.key} type="primary" onClick={i.onClick} data-testid={`action-${i.key}`}>
          {i.label}
        </Button>
      ))}
      {pdfButton}
      {isMobile && rest.length > 1 ? (
        <Dropdown menu={{ items: rest.map((i) => ({ key: i.key, label: i.label, danger: i.danger, onClick: i.onClick })) }}>
          <Button>{t("common.actions")}</Button>
        </Dropdown>
      ) : (
        rest.map((i) => (
          <Button key={i.key} danger={i.danger} onClick={i.onClick} data-testid={`action-${i.key}`}>
            {i.label}
          </Button>
        ))
      )}
      {dialog === "override" ? <OverrideDialog contract={contract} onClose={() => setDialog(null)} onDone={refresh} /> : null}
      {dialog === "terminate" || dialog === "cancel" ? <EndDialog kind={dialog} contract={contract} onClose={() => setDialog(null)} onDone={refresh} /> : null}
    </>
  );
}

/** Submit a red-listed customer's draft: the override reason is required, kept in the contract's
 *  audit trail and shown to the approver. */
function OverrideDialog({ contract, onClose, onDone }: { contract: ContractDetail; onClose: () => void; onDone: () => Promise<void> }) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm<{ reason: string }>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ok = async () => {
    let v: { reason: string };
    try {
      v = await form.validateFields();
    } catch {
      return; // the field shows why
    }
    setBusy(true);
    setError(null);
    try {
      await submitContract(contract.id, v.reason.trim());
      message.success(t("contracts.submitted"));
      await onDone();
      onClose();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      title={t("contracts.redList.overrideTitle", { number: contract.number })}
      okText={t("contracts.redList.submitOverride")}
      okButtonProps={{ danger: true, loading: busy, "data-testid": "override-confirm" } as never}
      cancelText={t("common.back")}
      onOk={() => void ok()}
      onCancel={onClose}
    >
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical">
        <Form.Item
          label={t("contracts.redList.overrideReason")}
          name="reason"
          extra={t("contracts.redList.overrideHint")}
          rules={[{ required: true, whitespace: true, message: t("auth.required") }]}
        >
          <Input.TextArea rows={3} data-testid="override-reason" />
        </Form.Item>
      </Form>
    </Modal>
  );
}

function EndDialog({
  kind,
  contract,
  onClose,
  onDone,
}: {
  kind: "terminate" | "cancel";
  contract: ContractDetail;
  onClose: () => void;
  onDone: () => Promise<void>;
}) {
  const { t } = useTranslation();
  const { message } = App.useApp();
  const [form] = Form.useForm();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const ok = async () => {
    const v = await form.validateFields();
    setBusy(true);
    setError(null);
    try {
      if (kind === "terminate") {
        const out = await terminateContract(contract.id, { reason: v.reason.trim(), effective_date: (v.effective_date as Dayjs).format("YYYY-MM-DD") });
        if (out.termination_request) message.info(t("contracts.terminationSentForApproval"));
        else message.success(t("contracts.terminated"));
      } else {
        await cancelContract(contract.id, v.reason?.trim() || undefined);
        message.success(t("contracts.cancelled"));
      }
      await onDone();
      onClose();
    } catch (e) {
      applyFieldErrors(form, e);
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal
      open
      title={kind === "terminate" ? t("contracts.terminateTitle", { number: contract.number }) : t("contracts.cancelTitle", { number: contract.number })}
      okText={kind === "terminate" ? t("contracts.terminate") : t("contracts.cancel")}
      okButtonProps={{ danger: true, loading: busy }}
      cancelText={t("common.back")}
      onOk={() => void ok()}
      onCancel={onClose}
    >
      <ErrorAlert error={error} />
      <Form form={form} layout="vertical" initialValues={{ effective_date: dayjs() }}>
        <Form.Item
          label={t("contracts.reason")}
          name="reason"
          rules={kind === "terminate" ? [{ required: true, whitespace: true, message: t("auth.required") }] : []}
        >
          <Input.TextArea rows={3} />
        </Form.Item>
        {kind === "terminate" ? (
          <Form.Item
            label={t("contracts.effectiveDate")}
            name="effective_date"
            extra={t("contracts.terminateBackDatedHint")}
            rules={[{ required: true, message: t("auth.required") }]}
          >
            <DatePicker style={{ width: "100%" }} />
          </Form.Item>
        ) : null}
      </Form>
    </Modal>
  );
}
