from __future__ import annotations
import pytest
from assistant.models import Message
from assistant.services.chat import conversation_create
from tests.browser_support import browser, open_page, web_server, PHONE, LAPTOP  # noqa: F401
from tests.conftest import chat_model_add

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANSWER = """Here is a **small** function that checks palindromes:

```python
def is_palindrome(word: str) -> bool:
    cleaned = "".join(ch.lower() for ch in word if ch.isalnum())
    return cleaned == cleaned[::-1]
```

- It ignores *case* and punctuation.
- Use `is_palindrome("Racecar")` to try it.

| word | result |
|---|---|
| level | True |
| hearth | False |

See [the docs](https://docs.python.org/3/) for more."""

def test_screens(open_page, alice, tiny_models):
    chat_model_add(tiny_models["llama3"])
    for i in range(5):
        conversation_create(owner=alice).__class__.objects.filter(pk=i+1).update(title=f"Older chat number {i}")
    c = conversation_create(owner=alice)
    c.title = "Palindromes in Python"; c.save()
    Message.objects.create(conversation=c, role="user", content="Write a Python function that checks whether a word is a palindrome.")
    Message.objects.create(conversation=c, role="assistant", content=ANSWER, state="complete", model_name="Tiny llama3", prompt_tokens=45, completion_tokens=120, context_size=2048, tokens_per_second=23.4)
    Message.objects.create(conversation=c, role="user", content="Now a long story please")
    Message.objects.create(conversation=c, role="assistant", content="Once upon a time there was a dragon who", state="incomplete", model_name="Tiny llama3", prompt_tokens=45, completion_tokens=12, context_size=2048, tokens_per_second=20.1, notice="The oldest 2 turns were left out to fit the model's 2048-token context.")
    empty = conversation_create(owner=alice)
    for name, vp in (("laptop", LAPTOP), ("phone", PHONE)):
        for scheme in ("light", "dark"):
            page = open_page(alice, f"/chat/{c.pk}/", viewport=vp, color_scheme=scheme)
            page.wait_for_selector(".msg")
            page.wait_for_timeout(300)
            page.screenshot(path=f"/tmp/shots/{name}-{scheme}.png")
            print(page.problems)
            assert not page.problems
    page = open_page(alice, f"/chat/{empty.pk}/", viewport=LAPTOP)
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/shots/empty-laptop.png")
    page = open_page(alice, f"/chat/{empty.pk}/", viewport=PHONE)
    page.wait_for_timeout(300)
    page.screenshot(path="/tmp/shots/empty-phone.png")
    page.click("[data-list-toggle]")
    page.wait_for_timeout(400)
    page.screenshot(path="/tmp/shots/drawer-phone.png")
    page = open_page(alice, f"/chat/search/?q=palindrome", viewport=LAPTOP)
    page.screenshot(path="/tmp/shots/search.png")
    page = open_page(alice, f"/chat/personas/", viewport=PHONE)
    page.screenshot(path="/tmp/shots/personas.png", full_page=True)
