"""BROKEN: a POST that failed (a broken connection or a 5xx) is sent again, with no Idempotency-Key.

It waits ``Retry-After`` when asked and walks the list correctly: only the retried POSTs are wrong.
Expected verdict: retries.idempotent_only.
"""

from clientlib import arguments, done, new_customer, retry_create, walk

client, args = arguments(__doc__)
for i in range(args.creates or 8):
    body = new_customer(client, i)
    retry_create(client, body)  # BUG: a failed POST is sent again, and with no Idempotency-Key
done(walk(client, args.limit))
