// Archive / restore and the red list on a customer's page. Each button shows only for the roles
// the customers service lets do it, so a click never ends in a 403.
import { InboxOutlined, RollbackOutlined, StopOutlined } from "@ant-design/icons";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { App, Button, Popconfirm } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { useAuth } from "../../shared/auth/AuthProvider";
import { useErrorText } from "../../shared/components/errors";
import { archiveCustomer, clearRedList, redListCustomer, restoreCustomer, RED_LIST_ROLES, RESTORE_ROLES, type Customer } from "./api";
import { RedListDialog } from "./RedListDialog";

export function CustomerStatusActions({ customer }: { customer: Customer }) {
  const { t } = useTranslation();
  const { can, hasRole } = useAuth();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const errorText = useErrorText();
  const [redListing, setRedListing] = useState(false);
  const done = (text: string) => async () => {
    await queryClient.invalidateQueries({ queryKey: ["customers"] });
    message.success(text);
  };
  // a refusal (409 already archived, 403 …) is told in a message: the buttons sit in the page header
  const failed = (e: unknown) => void message.error(errorText(e));
  const archive = useMutation({ mutationFn: () => archiveCustomer(customer.id), onSuccess: done(t("customers.archivedDone")), onError: failed });
  const restore = useMutation({ mutationFn: () => restoreCustomer(customer.id), onSuccess: done(t("customers.restoredDone")), onError: failed });
  const clear = useMutation({ mutationFn: () => clearRedList(customer.id), onSuccess: done(t("customers.redListCleared")), onError: failed });
  const mayRedList = hasRole(...RED_LIST_ROLES);
  return (
    <>
      {customer.archived ? (
        hasRole(...RESTORE_ROLES) ? (
          <Button icon={<RollbackOutlined />} loading={restore.isPending} onClick={() => restore.mutate()}>
            {t("customers.restore")}
          </Button>
        ) : null
      ) : can("customers.write") ? (
        <Popconfirm
          title={t("customers.archiveConfirm", { name: customer.name })}
          okText={t("customers.archive")}
          cancelText={t("common.cancel")}
          onConfirm={() => archive.mutate()}
        >
          <Button icon={<InboxOutlined />} loading={archive.isPending}>
            {t("customers.archive")}
          </Button>
        </Popconfirm>
      ) : null}
      {mayRedList && !customer.red_listed ? (
        <Button danger icon={<StopOutlined />} onClick={() => setRedListing(true)}>
          {t("customers.redListAction")}
        </Button>
      ) : null}
      {mayRedList && customer.red_listed ? (
        <Popconfirm
          title={t("customers.redListClearConfirm", { name: customer.name })}
          okText={t("customers.redListClear")}
          cancelText={t("common.cancel")}
          onConfirm={() => clear.mutate()}
        >
          <Button icon={<StopOutlined />} loading={clear.isPending}>
            {t("customers.redListClear")}
          </Button>
        </Popconfirm>
      ) : null}
      {redListing ? (
        <RedListDialog
          name={customer.name}
          onSend={async (reason) => {
            await redListCustomer(customer.id, reason);
            await done(t("customers.redListDone"))();
          }}
          onClose={() => setRedListing(false)}
        />
      ) : null}
    </>
  );
}
