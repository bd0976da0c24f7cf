/** The original SUPPORTED_MODELS map (§5.7): model name → provider, as served by L1. */
export const SUPPORTED_MODELS: Readonly<Record<string, string>> = Object.freeze({
  'gpt-4': 'openai', 'gpt-4-turbo': 'openai', 'gpt-4o': 'openai', 'gpt-3.5-turbo': 'openai',
  'claude-3-opus': 'anthropic', 'claude-3-sonnet': 'anthropic', 'claude-3-haiku': 'anthropic', 'claude-3.5-sonnet': 'anthropic',
  'gemini-2.0-flash': 'google', 'gemini-2.0-flash-exp': 'google', 'gemini-1.5-flash': 'google', 'gemini-1.5-pro': 'google',
  'deepseek-chat': 'deepseek', 'deepseek-coder': 'deepseek',
  'llama-3.3-70b-versatile': 'groq', 'llama-3.1-8b-instant': 'groq', 'mixtral-8x7b-32768': 'groq', 'gemma2-9b-it': 'groq',
  echo: 'echo',
});
