// Shell scripts are imported as text (Bun's `with { type: "text" }`), so the
// compiled executable carries them.
declare module "*.sh" {
  const text: string;
  export default text;
}
