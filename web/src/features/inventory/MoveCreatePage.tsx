import { useQuery, useQueryClient } from "@tanstack/react-query";
import { App, Card, Skeleton } from "antd";
import { useTranslation } from "react-i18next";
import { Navigate, useNavigate, useSearchParams } from "react-router-dom";
import { useAuth } from "../../shared/auth/AuthProvider";
import { PageHeader } from "../../shared/components/PageHeader";
import { getProduct, recordMove } from "./api";
import { StockMoveForm } from "./StockMoveForm";
import { useIdempotencyKey } from "../../shared/api/idempotency";

export default function MoveCreatePage() {
  const { t } = useTranslation();
  const { can } = useAuth();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const { message } = App.useApp();
  const idempotency = useIdempotencyKey();
  const [params] = useSearchParams();
  const productId = Number(params.get("product_id")) || undefined;
  const product = useQuery({
    queryKey: ["inventory", "product", productId],
    queryFn: () => getProduct(productId as number),
    enabled: !!productId,
  });
  if (!can("stock.move")) return <Navigate to="/inventory/moves" replace />;
  if (productId && product.isLoading) return <Skeleton active />;
  return (
    <>
      <PageHeader title={t("inventory.move.new")} />
      <Card>
        <StockMoveForm
          product={product.data}
          initial={{ product_id: product.data?.id }}
          onSubmit={async (body) => {
            const move = await recordMove(body, idempotency.key);
            idempotency.renew();
            await queryClient.invalidateQueries({ queryKey: ["inventory"] });
            message.success(
              t("inventory.move.recorded", {
                onHand: move.stock.on_hand,
                available: move.stock.available,
              }),
            );
            if (move.purchase_orders?.length)
              message.info(t("inventory.move.reorderRaised", { numbers: move.purchase_orders.map((p) => p.number).join(", ") }));
            navigate(`/inventory/moves?product_id=${move.product_id}`);
          }}
        />
      </Card>
    </>
  );
}
