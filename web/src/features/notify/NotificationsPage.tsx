import { CheckOutlined, ExportOutlined } from "@ant-design/icons";
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Badge, Button, Card, Empty, Flex, List, Pagination, Segmented, Skeleton, Tag, Typography } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { ErrorAlert } from "../../shared/components/errors";
import { PageHeader } from "../../shared/components/PageHeader";
import { useListParams } from "../../shared/components/ServerTable";
import { DateText } from "../../shared/components/values";
import { documentPath, listNotifications, markAllRead, markRead, type Notification } from "./api";

const FILTERS = ["unread"] as const;

/** The caller's inbox: newest first, unread only on request; mark one or all read. */
export default function NotificationsPage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const { message } = App.useApp();
  const queryClient = useQueryClient();
  const { list, update } = useListParams(FILTERS);
  const unreadOnly = list.filters.unread === "true";
  const inbox = useQuery({
    queryKey: ["notifications", list],
    queryFn: () => listNotifications(list),
    placeholderData: keepPreviousData,
  });
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: ["notifications"] }),
      queryClient.invalidateQueries({ queryKey: ["unread"] }),
    ]);
  const readOne = useMutation({ mutationFn: (n: Notification) => markRead(n.id), onSuccess: refresh });
  const readAll = useMutation({
    mutationFn: markAllRead,
    onSuccess: async (result) => {
      await refresh();
      message.success(t("notify.markedAll", { count: result.marked }));
    },
  });
  const open = async (n: Notification) => {
    const path = documentPath(n.document_type, n.document_id);
    if (!n.read) await readOne.mutateAsync(n).catch(() => undefined);
    if (path) navigate(path);
  };
  const unread = inbox.data?.unread ?? 0;

  return (
    <>
      <PageHeader
        title={t("nav.notifications")}
        subtitle={t("notify.unreadCount", { count: unread })}
        extra={
          <Button icon={<CheckOutlined />} disabled={unread === 0} loading={readAll.isPending} onClick={() => readAll.mutate()}>
            {t("notify.markAllRead")}
          </Button>
        }
      />
      <Segmented
        aria-label={t("notify.show")}
        style={{ marginBottom: 12 }}
        value={unreadOnly ? "unread" : "all"}
        onChange={(v) => update({ unread: v === "unread" ? "true" : null })}
        options={[
          { value: "all", label: t("notify.everything") },
          { value: "unread", label: t("notify.unreadOnly") },
        ]}
      />
      <ErrorAlert error={inbox.error ?? readOne.error ?? readAll.error} />
      <Card styles={{ body: { padding: 0 } }}>
        {inbox.isLoading ? (
          <Skeleton active style={{ padding: 16 }} />
        ) : (
          <List<Notification>
            aria-label={t("nav.notifications")}
            dataSource={inbox.data?.items ?? []}
            locale={{ emptyText: <Empty description={unreadOnly ? t("notify.noUnread") : t("notify.noNotifications")} /> }}
            renderItem={(n) => {
              const path = documentPath(n.document_type, n.document_id);
              return (
                <List.Item
                  style={{ padding: "12px 16px", background: n.read ? undefined : "#f0f7ff" }}
                >
                  <List.Item.Meta
                    avatar={<Badge status={n.read ? "default" : "processing"} aria-label={n.read ? t("notify.read") : t("notify.unread")} />}
                    title={
                      <Flex gap={8} wrap align="center">
                        <Typography.Text strong={!n.read} style={{ whiteSpace: "normal" }}>
                          {n.title}
                        </Typography.Text>
                        <Tag>{t(`notify.events.${n.event_type}`, { defaultValue: n.event_type.replace(/_/g, " ") })}</Tag>
                      </Flex>
                    }
                    description={
                      <>
                        <Typography.Paragraph style={{ marginBottom: 4, whiteSpace: "pre-wrap" }}>{n.body}</Typography.Paragraph>
                        <Flex gap={8} wrap align="center">
                          <Typography.Text type="secondary">
                            <DateText value={n.created_at} time />
                          </Typography.Text>
                          {[
                          path ? (
                            <Button key="open" size="small" type="link" icon={<ExportOutlined />} onClick={() => void open(n)}>
                              {t("common.open")}
                            </Button>
                          ) : null,
                          !n.read ? (
                            <Button key="read" size="small" onClick={() => readOne.mutate(n)} loading={readOne.isPending && readOne.variables?.id === n.id}>
                              {t("notify.markRead")}
                            </Button>
                          ) : null,
                          ]}
                        </Flex>
                      </>
                    }
                  />
                </List.Item>
              );
            }}
          />
        )}
      </Card>
      {(inbox.data?.total ?? 0) > list.page_size || list.page > 1 ? (
        <Flex justify="flex-end" style={{ marginTop: 12 }}>
          <Pagination
            current={list.page}
            pageSize={list.page_size}
            total={inbox.data?.total ?? 0}
            showSizeChanger={false}
            onChange={(page) => update({ page }, false)}
          />
        </Flex>
      ) : null}
    </>
  );
}
