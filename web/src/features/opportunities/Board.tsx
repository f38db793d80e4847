import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Card, Empty, Flex, Select, Skeleton, Tag, Typography } from "antd";
import { useState } from "react";
import { useTranslation } from "react-i18next";
import { Link } from "react-router-dom";
import { useErrorText, ErrorAlert } from "../../shared/components/errors";
import { useIsMobile } from "../../shared/components/useIsMobile";
import { DateText, Money } from "../../shared/components/values";
import { boardOpportunities, STAGES, totalsByCurrency, updateOpportunity, type Opportunity, type Stage } from "./api";

const STAGE_COLORS: Record<Stage, string> = {
  lead: "#8c8c8c",
  qualified: "#1677ff",
  proposal: "#722ed1",
  negotiation: "#fa8c16",
  won: "#52c41a",
  lost: "#f5222d",
};

type BoardData = Awaited<ReturnType<typeof boardOpportunities>>;

/**
 * The funnel as a board: one column per stage. Drag a card to another column, or choose its
 * stage in the card's select (keyboard, phone); either sends PATCH stage, shown at once and
 * rolled back with the reason when the API refuses.
 */
export function Board({ ownerId, canWrite }: { ownerId?: string; canWrite: boolean }) {
  const { t } = useTranslation();
  const mobile = useIsMobile();
  const { message } = App.useApp();
  const errorText = useErrorText();
  const queryClient = useQueryClient();
  const key = ["opportunities", "board", ownerId ?? ""];
  const board = useQuery({ queryKey: key, queryFn: () => boardOpportunities(ownerId) });
  const [over, setOver] = useState<Stage | null>(null);
  const move = useMutation({
    mutationFn: ({ id, stage }: { id: number; stage: Stage }) => updateOpportunity(id, { stage }),
    onMutate: async ({ id, stage }) => {
      await queryClient.cancelQueries({ queryKey: key });
      const before = queryClient.getQueryData<BoardData>(key);
      if (before) queryClient.setQueryData<BoardData>(key, { ...before, items: before.items.map((o) => (o.id === id ? { ...o, stage } : o)) });
      return { before };
    },
    onError: (error, _vars, context) => {
      if (context?.before) queryClient.setQueryData(key, context.before);
      message.error(`${t("opportunities.moveFailed")} ${errorText(error)}`);
    },
    onSuccess: (saved) => message.success(t("opportunities.moved", { title: saved.title, stage: t(`status.${saved.stage}`) })),
    onSettled: () => queryClient.invalidateQueries({ queryKey: ["opportunities"] }),
  });

  if (board.isLoading) return <Skeleton active />;
  if (board.error) return <ErrorAlert error={board.error} />;
  const items = board.data?.items ?? [];
  const drop = (stage: Stage) => (e: React.DragEvent) => {
    e.preventDefault();
    setOver(null);
    const id = Number(e.dataTransfer.getData("text/plain"));
    const card = items.find((o) => o.id === id);
    if (card && card.stage !== stage) move.mutate({ id, stage });
  };
  return (
    <>
      {(board.data?.total ?? 0) > items.length ? (
        <Typography.Paragraph type="secondary">{t("opportunities.boardLimited", { shown: items.length, total: board.data?.total })}</Typography.Paragraph>
      ) : null}
      <div
        style={
          mobile
            ? { display: "flex", flexDirection: "column", gap: 12 }
            : { display: "grid", gridTemplateColumns: `repeat(${STAGES.length}, minmax(160px, 1fr))`, gap: 12, overflowX: "auto", paddingBottom: 8 }
        }
      >
        {STAGES.map((stage) => {
          const cards = items.filter((o) => o.stage === stage);
          return (
            <section
              key={stage}
              aria-label={t(`status.${stage}`)}
              onDragOver={canWrite ? (e) => { e.preventDefault(); setOver(stage); } : undefined}
              onDragLeave={() => setOver((s) => (s === stage ? null : s))}
              onDrop={canWrite ? drop(stage) : undefined}
              style={{
                background: over === stage ? "#e6f4ff" : "#f5f5f5",
                borderRadius: 8,
                padding: 8,
                borderTop: `3px solid ${STAGE_COLORS[stage]}`,
                minHeight: mobile ? undefined : 240,
                minWidth: 0,
              }}
            >
              <Flex justify="space-between" align="baseline" style={{ padding: "0 4px 8px" }}>
                <Typography.Text strong>{t(`status.${stage}`)}</Typography.Text>
                <Tag>{cards.length}</Tag>
              </Flex>
              <div style={{ padding: "0 4px 8px", fontSize: 12 }}>
                {totalsByCurrency(cards).map((s) => (
                  <div key={s.currency}>
                    <Money amount={s.amount} currency={s.currency} />
                  </div>
                ))}
              </div>
              <Flex vertical gap={8}>
                {cards.length === 0 ? <Empty image={Empty.PRESENTED_IMAGE_SIMPLE} description={t("opportunities.noneInStage")} /> : null}
                {cards.map((o) => (
                  <OpportunityCard key={o.id} o={o} canWrite={canWrite} onStage={(s) => move.mutate({ id: o.id, stage: s })} />
                ))}
              </Flex>
            </section>
          );
        })}
      </div>
    </>
  );
}

function OpportunityCard({ o, canWrite, onStage }: { o: Opportunity; canWrite: boolean; onStage: (s: Stage) => void }) {
  const { t } = useTranslation();
  return (
    <Card
      size="small"
      draggable={canWrite}
      onDragStart={(e) => {
        e.dataTransfer.setData("text/plain", String(o.id));
        e.dataTransfer.effectAllowed = "move";
      }}
      style={{ cursor: canWrite ? "grab" : undefined }}
      styles={{ body: { padding: 10 } }}
    >
      <Link to={`/opportunities/${o.id}`} style={{ fontWeight: 600, display: "block", overflowWrap: "anywhere" }}>
        {o.title}
      </Link>
      <Typography.Text type="secondary" style={{ display: "block", fontSize: 12, overflowWrap: "anywhere" }}>
        {o.customer_name}
      </Typography.Text>
      <Flex justify="space-between" wrap gap={4} style={{ margin: "6px 0" }}>
        <Money amount={o.amount} currency={o.currency} />
        {o.probability !== null ? <Tag>{o.probability}%</Tag> : null}
      </Flex>
      {o.expected_close ? (
        <Typography.Text type="secondary" style={{ fontSize: 12, display: "block", marginBottom: 6 }}>
          {t("opportunities.expectedClose")}: <DateText value={o.expected_close} />
        </Typography.Text>
      ) : null}
      {canWrite ? (
        <Select<Stage>
          size="small"
          aria-label={t("opportunities.stageOf", { title: o.title })}
          value={o.stage as Stage}
          onChange={onStage}
          options={STAGES.map((s) => ({ value: s, label: t(`status.${s}`) }))}
          style={{ width: "100%" }}
        />
      ) : null}
    </Card>
  );
}
