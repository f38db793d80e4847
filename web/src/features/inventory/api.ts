import { api, itemsOf, unwrap, type components } from "../../shared/api/client";
import { idempotencyHeader } from "../../shared/api/idempotency";
import { listQuery, type ListParams } from "../../shared/components/ServerTable";

type S = components["schemas"];
export type Product = S["ProductPublic"];
export type ProductCreate = S["ProductCreate"];
export type ProductUpdate = S["ProductUpdate"];
export type Category = S["CategoryPublic"];
export type PriceListSummary = S["PriceListSummary"];
export type PriceListDetail = S["PriceListDetail"];
export type PriceListCreate = S["PriceListCreate"];
export type PriceItem = S["PriceItem"];
export type BulkPriceUpdate = S["BulkPriceUpdate"];
export type Warehouse = S["WarehousePublic"];
export type StockLevel = S["StockLevelPublic"];
export type Move = S["MovePublic"];
export type StockMove = S["StockMove"];
export type Reservation = S["ReservationPublic"];
export type UnitSummary = S["UnitSummary"];
export type Unit = S["UnitPublic"];
export type PurchaseOrder = S["PurchaseOrderPublic"];
export type PurchaseOrderCreate = S["PurchaseOrderCreate"];
export type TradeIn = S["TradeInPublic"];
export type TradeInCreate = S["TradeInCreate"];
export type TradeInDecision = S["TradeInDecision"];

export const KINDS = ["device", "service", "consumable"] as const;
export const CHANNELS = ["distributor", "reseller", "customer"] as const;
export const IN_REASONS = ["purchase", "trade_in", "sales_return", "repossession", "lease_return", "adjustment"] as const;
export const OUT_REASONS = ["dispatch", "adjustment"] as const;
export const CONDITIONS = ["new", "good", "fair", "poor", "broken"] as const;
export const UNIT_STATUSES = ["in_stock", "reserved", "dispatched", "leased", "returned", "scrapped"] as const;

export const PRODUCT_FILTERS = ["q", "category", "kind"] as const;
export const STOCK_FILTERS = ["product_id", "warehouse_id"] as const;
export const MOVE_FILTERS = ["product_id", "warehouse_id", "contract_id"] as const;
export const UNIT_FILTERS = ["q", "product_id", "warehouse_id", "status"] as const;
export const RESERVATION_FILTERS = ["contract_id", "product_id", "status"] as const;
export const PO_FILTERS = ["status", "product_id"] as const;
export const TRADE_IN_FILTERS = ["status"] as const;
export const PRICE_LIST_FILTERS = ["channel"] as const;

const q = (params: ListParams) => ({ params: { query: listQuery(params) as never } });

// catalogue
export const listProducts = (params: ListParams) => unwrap(api.GET("/api/v1/products", q(params)));
export const searchProducts = (text: string) =>
  unwrap(api.GET("/api/v1/products", { params: { query: { q: text || undefined, page_size: 20 } } }));
export const getProduct = (id: number | string) =>
  unwrap(api.GET("/api/v1/products/{product_id}", { params: { path: { product_id: String(id) } } }));
export const createProduct = (body: ProductCreate, key?: string) =>
  unwrap(api.POST("/api/v1/products", { params: { header: idempotencyHeader(key) }, body }));
export const updateProduct = (id: number | string, body: ProductUpdate) =>
  unwrap(api.PATCH("/api/v1/products/{product_id}", { params: { path: { product_id: String(id) } }, body }));
/** The whole category tree (one page of the largest size). */
export const listCategories = () =>
  unwrap(api.GET("/api/v1/categories", { params: { query: { page_size: 500 } as never } })).then(itemsOf);
export const createCategory = (body: S["CategoryCreate"], key?: string) =>
  unwrap(api.POST("/api/v1/categories", { params: { header: idempotencyHeader(key) }, body }));

// price lists
export const listPriceLists = (params: ListParams) => unwrap(api.GET("/api/v1/price-lists", q(params)));
export const getPriceList = (id: number | string) =>
  unwrap(api.GET("/api/v1/price-lists/{price_list_id}", { params: { path: { price_list_id: String(id) } } }));
export const createPriceList = (body: PriceListCreate, key?: string) =>
  unwrap(api.POST("/api/v1/price-lists", { params: { header: idempotencyHeader(key) }, body }));
export const setPrices = (id: number | string, items: PriceItem[]) =>
  unwrap(
    api.POST("/api/v1/price-lists/{price_list_id}/items", {
      params: { path: { price_list_id: String(id) } },
      body: { items },
    }),
  );
export const bulkUpdatePriceList = (id: number | string, body: BulkPriceUpdate) =>
  unwrap(
    api.POST("/api/v1/price-lists/{price_list_id}/bulk-update", {
      params: { path: { price_list_id: String(id) } },
      body,
    }),
  );

// warehouses and stock
export const listWarehouses = (params: ListParams) => unwrap(api.GET("/api/v1/warehouses", q(params)));
export const allWarehouses = () => unwrap(api.GET("/api/v1/warehouses", { params: { query: { page_size: 500 } } }));
export const createWarehouse = (body: S["WarehouseCreate"], key?: string) =>
  unwrap(api.POST("/api/v1/warehouses", { params: { header: idempotencyHeader(key) }, body }));
export const listStock = (params: ListParams) => unwrap(api.GET("/api/v1/stock", q(params)));
export const productStock = (productId: number) =>
  unwrap(api.GET("/api/v1/stock", { params: { query: { product_id: productId, page_size: 500 } } }));
export const listMoves = (params: ListParams) => unwrap(api.GET("/api/v1/stock/moves", q(params)));
export const recordMove = (body: StockMove, key?: string) =>
  unwrap(api.POST("/api/v1/stock/moves", { params: { header: idempotencyHeader(key) }, body }));
export const listReservations = (params: ListParams) => unwrap(api.GET("/api/v1/stock/reservations", q(params)));
export const dispatchReservations = (contractId: number | string, lease: boolean) =>
  unwrap(
    api.POST("/api/v1/stock/reservations/{contract_id}/dispatch", {
      params: { path: { contract_id: String(contractId) } },
      body: { lease },
    }),
  );
export const releaseReservations = (contractId: number | string, reason?: string) =>
  unwrap(
    api.POST("/api/v1/stock/reservations/{contract_id}/release", {
      params: { path: { contract_id: String(contractId) } },
      body: { reason: reason || null },
    }),
  );

// units
export const listUnits = (params: ListParams) => unwrap(api.GET("/api/v1/units", q(params)));
export const productUnits = (productId: number) =>
  unwrap(api.GET("/api/v1/units", { params: { query: { product_id: productId, page_size: 500 } } }));
export const getUnit = (serial: string) =>
  unwrap(api.GET("/api/v1/units/{serial_number}", { params: { path: { serial_number: serial } } }));

// purchase orders
export const listPurchaseOrders = (params: ListParams) => unwrap(api.GET("/api/v1/purchase-orders", q(params)));
export const getPurchaseOrder = (id: number | string) =>
  unwrap(
    api.GET("/api/v1/purchase-orders/{purchase_order_id}", { params: { path: { purchase_order_id: String(id) } } }),
  );
export const createPurchaseOrder = (body: PurchaseOrderCreate, key?: string) =>
  unwrap(api.POST("/api/v1/purchase-orders", { params: { header: idempotencyHeader(key) }, body }));
export const receivePurchaseOrder = (id: number | string, body: S["PurchaseOrderReceive"], key?: string) =>
  unwrap(
    api.POST("/api/v1/purchase-orders/{purchase_order_id}/receive", {
      params: { path: { purchase_order_id: String(id) }, header: idempotencyHeader(key) },
      body,
    }),
  );
export const cancelPurchaseOrder = (id: number | string, reason?: string) =>
  unwrap(
    api.POST("/api/v1/purchase-orders/{purchase_order_id}/cancel", {
      params: { path: { purchase_order_id: String(id) } },
      body: { reason: reason || null },
    }),
  );

// trade-ins
export const listTradeIns = (params: ListParams) => unwrap(api.GET("/api/v1/trade-ins", q(params)));
export const getTradeIn = (id: number | string) =>
  unwrap(api.GET("/api/v1/trade-ins/{trade_in_id}", { params: { path: { trade_in_id: String(id) } } }));
export const createTradeIn = (body: TradeInCreate, key?: string) =>
  unwrap(api.POST("/api/v1/trade-ins", { params: { header: idempotencyHeader(key) }, body }));
export const decideTradeIn = (id: number | string, body: TradeInDecision) =>
  unwrap(
    api.POST("/api/v1/trade-ins/{trade_in_id}/decision", { params: { path: { trade_in_id: String(id) } }, body }),
  );
export const receiveTradeIn = (id: number | string, body: S["TradeInReceive"]) =>
  unwrap(
    api.POST("/api/v1/trade-ins/{trade_in_id}/receive", { params: { path: { trade_in_id: String(id) } }, body }),
  );

// other services' records picked on these screens
export const searchCustomers = (text: string) =>
  unwrap(api.GET("/api/v1/customers", { params: { query: { q: text || undefined, page_size: 20 } } }));
export const searchContracts = (text: string) =>
  unwrap(api.GET("/api/v1/contracts", { params: { query: { q: text || undefined, page_size: 20 } } }));
export const getCustomerName = (id: number | string) =>
  unwrap(api.GET("/api/v1/customers/{customer_id}", { params: { path: { customer_id: String(id) } } }));
export const getContractNumber = (id: number | string) =>
  unwrap(api.GET("/api/v1/contracts/{contract_id}", { params: { path: { contract_id: String(id) } } }));
