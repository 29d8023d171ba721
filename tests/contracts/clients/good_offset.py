"""A good client of an offset-paged list (Ecwid, myBoxx): the next offset is this page's offset + count.

It stops when ``offset + count`` reaches ``total``, asks again for a page whose request failed
(waiting ``Retry-After`` when the answer has one), and retries a POST only with the same
``Idempotency-Key``.
"""

from clientlib import arguments, create_safely, done, patiently

client, args = arguments(__doc__)
if args.creates:
    create_safely(client, args.creates, keyed=args.idempotency_keys)
ids: list[str] = []
offset, total = 0, None
while total is None or offset < total:
    _, body = patiently(client.send, "GET", client.platform.path, {**client.first_query(args.limit), "offset": str(offset)})
    items = body["items"] if "items" in body else body["data"]["attributes"]["items"]
    total = body["total"] if "total" in body else body["data"]["attributes"]["total"]
    if not items:
        break
    ids.extend(str(item["id"]) for item in items)
    offset += len(items)
done(ids)
