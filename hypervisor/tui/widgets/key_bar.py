"""The key bar at the bottom: the keys of the mode the screen is in, as many as fit, and always
the help and quit keys at the right end (so they never scroll off an 80-column terminal).
While the console has the keys, it shows the console's keys instead (esc, scrolling) and the
help and quit keys that still work there (f1, ctrl+q): ? and q then go to the guest.
A click on a key runs it."""
from . import LinePanel

KEY_STYLE = "bold #1c1c1c on #d7af5f"


class KeyBar(LinePanel):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hints = []                 # (key shown, label, action, essential)
        self.spans = []                 # (x0, x1, action) of the keys drawn

    def show(self, hints):
        self.hints = list(hints)
        self.update_view()

    def build(self):
        width = self.content_size.width
        if width <= 0:
            return []

        def piece(key, label):
            return [(f" {key} ", KEY_STYLE), (f"{label} ", "")]

        def size(key, label):
            return len(key) + len(label) + 3

        right = [h for h in self.hints if h[3]]
        left = [h for h in self.hints if not h[3]]
        room = width - sum(size(k, lab) for k, lab, _, _ in right)
        shown = []
        for h in left:
            if size(h[0], h[1]) > room:
                break
            shown.append(h)
            room -= size(h[0], h[1])
        line, self.spans, x = [], [], 0
        for k, lab, action, _ in shown:
            line += piece(k, lab)
            self.spans.append((x, x + size(k, lab), action))
            x += size(k, lab)
        if room > 0:
            line.append((" " * room, ""))
            x += room
        for k, lab, action, _ in right:
            line += piece(k, lab)
            self.spans.append((x, x + size(k, lab), action))
            x += size(k, lab)
        return [line]

    def plain_keys(self):
        """The keys shown, as text (for tests)."""
        return " ".join(t.strip() for line in (self._lines or self.build()) for t, st in line
                        if st == KEY_STYLE)

    async def on_click(self, event):
        at = event.get_content_offset(self)
        for x0, x1, action in self.spans:
            if at is not None and x0 <= at.x < x1 and action:
                await self.app.run_action(action, self.screen)
                return
