import { describe, expect, it } from "vitest";
import { applyPercent, previewBulk } from "./priceMath";

describe("the bulk price preview", () => {
  it("raises and lowers by a percent, rounding half up to the cent", () => {
    expect(applyPercent("100.00", "7.5")).toBe("107.50");
    expect(applyPercent("19.99", "5")).toBe("20.99"); // 20.9895
    expect(applyPercent("10.10", "-5")).toBe("9.60"); // 9.595
    expect(applyPercent("1000", "0")).toBe("1000.00");
  });

  it("keeps yen whole", () => {
    expect(previewBulk([{ product_id: 1, unit_price: "1250" }], "10", "JPY", null)).toEqual([
      { product_id: 1, before: "1250", after: "1375" },
    ]);
  });

  it("changes only the chosen products", () => {
    const items = [
      { product_id: 1, unit_price: "10.00" },
      { product_id: 2, unit_price: "20.00" },
    ];
    expect(previewBulk(items, "10", "EUR", new Set([2]))).toEqual([{ product_id: 2, before: "20.00", after: "22.00" }]);
  });
});
