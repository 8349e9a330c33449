// What the signed-in token may do, as GET /auth/me told: the console shows only that.
export const grant = { name: null, scopes: [] };

const has = (scope) => grant.scopes.includes("admin") || grant.scopes.includes(scope);

export const may = {
  write: () => has("write"), // register, join, leave, attend
  forget: () => has("admin"),
};
