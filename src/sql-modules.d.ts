// SQL files are imported as text (Bun's `with { type: "text" }`), so the
// compiled executable carries them.
declare module "*.sql" {
  const text: string;
  export default text;
}
