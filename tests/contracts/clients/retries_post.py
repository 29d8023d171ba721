"""BROKEN: a POST that failed (dropped connection or 5xx) is sent again at once, with no Idempotency-Key.

It waits ``Retry-After`` when asked and walks the list correctly: only the retried POSTs are wrong.
Expected verdict: retries.idempotent_only.
"""

from clientlib import arguments, done, new_customer, patiently, walk

client, args = arguments(__doc__)
for i in range(args.creates or 8):
    body = new_customer(client, i)
    patiently(client.send, "POST", client.platform.create or "", body=body)  # BUG: retried, and no key
done(walk(client, args.limit))
