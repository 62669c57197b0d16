"""The app's own style and script: fixed text of this module, never guide or user text.

- Captions in the page's text colour at 80% (Streamlit's 60% grey measures 3.9:1 on white; this
  is over 6:1), so "Interpreted as…" and the source lines can be read.
- Tables scroll sideways inside their own box instead of being cut at a phone's width; the
  title shrinks on narrow screens.
- Screen readers: the conversation is a live log (`role=log`, `aria-live=polite`), so a new
  answer is announced; each message is labelled as a question or an answer.
- A source opened from its `[n]` button scrolls its first highlighted sentence into view.
- The browser's random id is kept in a cookie, for its list of conversations.
"""

from __future__ import annotations

from guide.serve.conversations import valid_id

BROWSER_COOKIE = "guide_browser"
COOKIE_DAYS = 365

STYLE = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] * { color: inherit !important; }
[data-testid="stCaptionContainer"] { opacity: 0.8; }
[data-testid="stTable"] { overflow-x: auto; max-width: 100%; }
[data-testid="stTable"] table { min-width: 34rem; }
[class*="st-key-sources-"] { gap: 0 1rem !important; }
[class*="st-key-sources-"] button { min-height: 1.5rem; padding: 0; }
@media (max-width: 640px) {
  h1 { font-size: 1.55rem !important; line-height: 1.25 !important; padding: 0.25rem 0 !important; }
  [data-testid="stMainBlockContainer"] { padding-left: 0.75rem; padding-right: 0.75rem; padding-top: 3rem; }
}
</style>"""

SCRIPT = """<script>
(() => {
  const id = "%(id)s";
  if (id && !document.cookie.split("; ").includes("%(cookie)s=" + id)) {
    document.cookie = "%(cookie)s=" + id + "; path=/; max-age=%(age)d; SameSite=Lax";
  }
  if (window.__guidePage) return;
  window.__guidePage = true;
  let lastCited = null;
  const tidy = () => {
    const log = document.querySelector(".st-key-chat-log");
    if (log && log.getAttribute("aria-live") !== "polite") {
      log.setAttribute("role", "log");
      log.setAttribute("aria-live", "polite");
      log.setAttribute("aria-relevant", "additions");
      log.setAttribute("aria-label", "Conversation");
    }
    for (const message of document.querySelectorAll('[data-testid="stChatMessage"]')) {
      if (message.hasAttribute("aria-label")) continue;
      const user = message.querySelector('[data-testid="stChatMessageAvatarUser"]');
      message.setAttribute("role", "article");
      message.setAttribute("aria-label", user ? "Your question" : "Answer");
    }
    // A source just opened (or another one): its first highlighted sentence to the middle.
    const dialog = document.querySelector('[role="dialog"]');
    const cited = dialog && dialog.querySelector(".st-key-cited-guide span[style*='background']");
    if (!dialog) lastCited = null;
    if (cited && cited !== lastCited) {
      lastCited = cited;
      cited.scrollIntoView({block: "center"});
    }
  };
  new MutationObserver(tidy).observe(document.body, {childList: true, subtree: true});
  tidy();
})();
</script>"""


def script(browser: str) -> str:
    """The page script, with the browser's id (only an id this app made is ever written)."""
    return SCRIPT % {"id": valid_id(browser) or "", "cookie": BROWSER_COOKIE, "age": COOKIE_DAYS * 86400}
