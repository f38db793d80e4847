import { useQueryClient } from "@tanstack/react-query";
import { App, Card } from "antd";
import { useTranslation } from "react-i18next";
import { useNavigate } from "react-router-dom";
import { PageHeader } from "../../shared/components/PageHeader";
import { createOpportunity } from "./api";
import { OpportunityForm } from "./OpportunityForm";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export default function OpportunityCreatePage() {
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const idempotency = useIdempotencyKey();
  return (
    <>
      <PageHeader title={t("opportunities.new")} />
      <Card>
        <OpportunityForm
          onCancel={() => navigate(-1)}
          onSubmit={async (body) => {
            const created = await createOpportunity(body, idempotency.key);
            idempotency.renew();
            await queryClient.invalidateQueries({ queryKey: ["opportunities"] });
            message.success(t("opportunities.created"));
            navigate(`/opportunities/${created.id}`);
          }}
        />
      </Card>
    </>
  );
}
