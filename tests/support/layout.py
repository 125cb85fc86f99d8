"""What a person sees, asserted in a real browser: controls shown (not transparent, not covered,
inside the viewport), header controls apart, no sideways scrolling; and screenshots to look at.

Playwright's own `to_be_visible` counts an element with `opacity: 0` or under another element as
visible, so `assert_seen` asks the browser itself (checkVisibility, elementFromPoint).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.environment import TEST_DATA_DIR

LAPTOP = {"width": 1366, "height": 850}
PHONE = {"width": 390, "height": 844}
SIZES = {"laptop": LAPTOP, "phone": PHONE}

# Problems with one element, as a person would see them; [] when it is fine.
# A drawer or dialog still sliding in is measured where it will rest: finite animations and
# transitions are awaited first (spinners, which never end, are not).
_SETTLED = """async () => {
  const ending = document.getAnimations().filter(
    (a) => a.playState === "running" && a.effect?.getComputedTiming().iterations !== Infinity,
  );
  const settled = Promise.all(ending.map((a) => a.finished.catch(() => null)));
  await Promise.race([settled, new Promise((done) => setTimeout(done, 2000))]);
}"""

_PROBLEMS = """(el, fits) => {
  const problems = [];
  const box = el.getBoundingClientRect();
  const every = {checkOpacity: true, checkVisibilityCSS: true, opacityProperty: true, visibilityProperty: true};
  const shown = el.checkVisibility(every);
  if (!shown) problems.push("hidden or transparent");
  if (box.width < 1 || box.height < 1) problems.push("no size");
  const [w, h] = [window.innerWidth, window.innerHeight];
  if (box.left < -0.5 || box.top < -0.5 || box.right > w + 0.5 || box.bottom > h + 0.5) {
    const corners = [box.left, box.top, box.right, box.bottom].map(Math.round).join(",");
    problems.push(`outside the ${w}x${h} viewport: ${corners}`);
  }
  const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
  const mine = hit && (el.contains(hit) || hit.contains(el) || [...(el.labels || [])].some((l) => l.contains(hit)));
  if (shown && hit && !mine) {
    problems.push(`covered by ${hit.outerHTML.slice(0, 100)}`);
  }
  if (fits && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1)) {
    const [inner, outer] = [[el.scrollWidth, el.scrollHeight], [el.clientWidth, el.clientHeight]];
    problems.push(`its content spills out (${inner.join("x")} in ${outer.join("x")})`);
  }
  if (el.tagName === "SELECT" && el.clientWidth < 96) problems.push(`too narrow to read (${el.clientWidth}px)`);
  return problems;
}"""

_BOXES = """(selectors) => selectors.flatMap((selector) => [...document.querySelectorAll(selector)]
  .filter((el) => el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true}))
  .map((el) => { const b = el.getBoundingClientRect(); return [selector, b.left, b.top, b.right, b.bottom]; }))"""

_OVERFLOW = """() => {
  const width = window.innerWidth;
  // The part of an element a person can see: its box, cut by every ancestor that clips.
  const shownBox = (el) => {
    let {left, right} = el.getBoundingClientRect();
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      const style = getComputedStyle(up);
      if (style.overflowX !== "visible" || style.clip !== "auto") {
        const box = up.getBoundingClientRect();
        left = Math.max(left, box.left);
        right = Math.min(right, box.right);
      }
    }
    return {left, right};
  };
  const wide = [...document.querySelectorAll("body *")].filter((el) => {
    if (!el.checkVisibility() || el.closest("[inert], [aria-hidden='true']")) return false;
    const {left, right} = shownBox(el);
    return right > left && (right > width + 1 || left < -1);
  });
  const names = wide.slice(0, 5).map((el) => el.outerHTML.slice(0, 120));
  return {scroll: document.documentElement.scrollWidth, width, wide: names};
}"""


def assert_seen(page: Any, selector: str, *, fits: bool = False, scroll: bool = True) -> None:
    """The first element matching `selector` is there for a person: shown, opaque, uncovered, in view.
    fits: also its content stays inside it (buttons and toggles with a label)."""
    from playwright.sync_api import expect

    locator = page.locator(selector).first
    expect(locator).to_be_visible()
    if scroll:
        locator.scroll_into_view_if_needed()
    page.evaluate(_SETTLED)
    problems = locator.evaluate(_PROBLEMS, fits)
    assert problems == [], f"{selector}: {problems}"


def assert_apart(page: Any, selectors: list[str]) -> None:
    """No two of the shown elements matching `selectors` overlap (header controls, for instance)."""
    boxes = page.evaluate(_BOXES, selectors)
    for index, (name, left, top, right, bottom) in enumerate(boxes):
        for other, o_left, o_top, o_right, o_bottom in boxes[index + 1 :]:
            overlap_x = min(right, o_right) - max(left, o_left)
            overlap_y = min(bottom, o_bottom) - max(top, o_top)
            assert overlap_x <= 0.5 or overlap_y <= 0.5, f"{name} overlaps {other}: {boxes}"


def assert_no_sideways_scroll(page: Any) -> None:
    """Nothing sticks out to the right or left of the window, so the page never scrolls sideways."""
    found = page.evaluate(_OVERFLOW)
    assert found["scroll"] <= found["width"], found
    assert found["wide"] == [], found


def assert_no_page_scroll(page: Any) -> None:
    """A page laid out as an app (chat) scrolls inside its panes; the page itself never scrolls into
    blank space below them."""
    tall, window = page.evaluate("() => [document.documentElement.scrollHeight, innerHeight]")
    assert tall <= window, f"the page is {tall} px tall in a {window} px window"


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot in $HEARTH_SCREENSHOTS (or the test data folder), to look at."""
    folder = Path(os.environ.get("HEARTH_SCREENSHOTS") or TEST_DATA_DIR / "screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.evaluate("() => { window.scrollTo(0, 0); for (const el of document.querySelectorAll('*')) el.scrollTop = 0; }")
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.fixture(name="open_at")
def open_at_fixture(browser: Any, web_server: str) -> Iterator[Callable[..., Any]]:
    """open_at(user, path, size) -> a page at `size`: "laptop" (1366x850) or "phone" (390x844, with
    touch and no hover), signed in as `user` (None: signed out). Console errors land on `page.problems`."""
    from tests.support.browser import log_in

    contexts: list[Any] = []

    def opener(user: Any, path: str, size: str) -> Any:
        phone = size == "phone"
        context = browser.new_context(
            viewport=SIZES[size],
            base_url=web_server,
            locale="en-US",
            color_scheme="light",
            service_workers="block",
            has_touch=phone,
            is_mobile=phone,
        )
        contexts.append(context)
        if user is not None:
            log_in(context, web_server, user)
        page = context.new_page()
        page.problems = []
        page.on("pageerror", lambda error: page.problems.append(f"pageerror: {error}"))
        page.on("console", lambda message: message.type == "error" and page.problems.append(f"console: {message.text}"))
        page.set_default_timeout(15_000)
        page.goto(path)
        return page

    yield opener
    for context in contexts:
        context.close()
