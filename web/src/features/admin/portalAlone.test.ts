import { describe, expect, it } from "vitest";
import { placeholders } from "./api";
import { portalAlone } from "./UsersTab";

describe("roles of a user", () => {
  it("a portal user has no other role, whichever is chosen last wins", () => {
    expect(portalAlone(["sales_rep", "portal"], ["sales_rep"])).toEqual(["portal"]);
    expect(portalAlone(["portal", "finance"], ["portal"])).toEqual(["finance"]);
    expect(portalAlone(["admin", "finance"], ["admin"])).toEqual(["admin", "finance"]);
  });
});

describe("template placeholders", () => {
  it("are found once each, in order, with or without spaces", () => {
    expect(placeholders("At {{ site }} for {{fee}} a visit; {{site}} again; {{ 1bad }}")).toEqual(["site", "fee"]);
  });
});
