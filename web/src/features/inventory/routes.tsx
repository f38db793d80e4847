import { lazy } from "react";
import { Navigate, type RouteObject } from "react-router-dom";
import InventoryLayout from "./InventoryLayout";

const ProductsPage = lazy(() => import("./ProductsPage"));
const ProductFormPage = lazy(() => import("./ProductFormPage"));
const ProductPage = lazy(() => import("./ProductPage"));
const CategoriesPage = lazy(() => import("./CategoriesPage"));
const PriceListsPage = lazy(() => import("./PriceListsPage"));
const PriceListCreatePage = lazy(() => import("./PriceListCreatePage"));
const PriceListPage = lazy(() => import("./PriceListPage"));
const WarehousesPage = lazy(() => import("./WarehousesPage"));
const StockPage = lazy(() => import("./StockPage"));
const UnitsPage = lazy(() => import("./UnitsPage"));
const UnitPage = lazy(() => import("./UnitPage"));
const MovesPage = lazy(() => import("./MovesPage"));
const MoveCreatePage = lazy(() => import("./MoveCreatePage"));
const ReservationsPage = lazy(() => import("./ReservationsPage"));
const PurchaseOrdersPage = lazy(() => import("./PurchaseOrdersPage"));
const PurchaseOrderPage = lazy(() => import("./PurchaseOrderPage"));
const TradeInsPage = lazy(() => import("./TradeInsPage"));
const TradeInCreatePage = lazy(() => import("./TradeInCreatePage"));
const TradeInPage = lazy(() => import("./TradeInPage"));

/** /inventory is a tabbed area: the tab is the first part of the path after /inventory. */
export const routes: RouteObject[] = [
  {
    path: "inventory",
    element: <InventoryLayout />,
    children: [
      { index: true, element: <Navigate to="products" replace /> },
      { path: "products", element: <ProductsPage /> },
      { path: "products/new", element: <ProductFormPage /> },
      { path: "products/:id", element: <ProductPage /> },
      { path: "products/:id/edit", element: <ProductFormPage /> },
      { path: "categories", element: <CategoriesPage /> },
      { path: "price-lists", element: <PriceListsPage /> },
      { path: "price-lists/new", element: <PriceListCreatePage /> },
      { path: "price-lists/:id", element: <PriceListPage /> },
      { path: "warehouses", element: <WarehousesPage /> },
      { path: "stock", element: <StockPage /> },
      { path: "units", element: <UnitsPage /> },
      { path: "units/:serial", element: <UnitPage /> },
      { path: "moves", element: <MovesPage /> },
      { path: "moves/new", element: <MoveCreatePage /> },
      { path: "reservations", element: <ReservationsPage /> },
      { path: "purchase-orders", element: <PurchaseOrdersPage /> },
      { path: "purchase-orders/:id", element: <PurchaseOrderPage /> },
      { path: "trade-ins", element: <TradeInsPage /> },
      { path: "trade-ins/new", element: <TradeInCreatePage /> },
      { path: "trade-ins/:id", element: <TradeInPage /> },
    ],
  },
];
