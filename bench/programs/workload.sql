-- vedalloc bench — prog:sqlite: an in-memory database built and queried by
-- `sqlite3 -batch :memory:` reading this file on stdin, under every
-- allocator. The data comes from recursive CTEs over integer arithmetic
-- (no random()), so every run builds the same rows and prints the same
-- results. SQLite takes every page of its cache and every row buffer from
-- malloc; the inserts, the index builds, the joins and the GROUP BYs
-- churn blocks of many sizes.
PRAGMA cache_size = -65536;
CREATE TABLE customer (id INTEGER PRIMARY KEY, name TEXT, region INTEGER);
CREATE TABLE item (id INTEGER PRIMARY KEY, label TEXT, price INTEGER);
CREATE TABLE sale (id INTEGER PRIMARY KEY, customer INTEGER, item INTEGER,
                   qty INTEGER, note TEXT);
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 20000)
INSERT INTO customer SELECT x, 'customer-' || ((x * 7919) % 100003), x % 37 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 5000)
INSERT INTO item SELECT x, printf('item-%05d-%s', (x * 104729) % 99991, substr('abcdefghijklmnop', 1 + x % 16)),
                        1 + (x * 31337) % 9973 FROM n;
WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 100000)
INSERT INTO sale SELECT x, 1 + (x * 2654435761) % 20000, 1 + (x * 40503) % 5000,
                        1 + x % 9, printf('%.*c', x % 60, 'n') FROM n;
CREATE INDEX sale_customer ON sale (customer);
CREATE INDEX sale_item ON sale (item, qty);
CREATE INDEX customer_name ON customer (name);
SELECT c.region, count(*), sum(s.qty * i.price), max(length(s.note))
  FROM sale s JOIN customer c ON c.id = s.customer JOIN item i ON i.id = s.item
 GROUP BY c.region ORDER BY c.region;
SELECT i.label, sum(s.qty) AS q FROM sale s JOIN item i ON i.id = s.item
 GROUP BY i.id ORDER BY q DESC, i.label LIMIT 20;
SELECT c.name, count(DISTINCT s.item) AS k FROM customer c JOIN sale s ON s.customer = c.id
 GROUP BY c.id ORDER BY k DESC, c.name LIMIT 20;
SELECT group_concat(name, ',') FROM (SELECT name FROM customer ORDER BY name DESC LIMIT 200);
UPDATE sale SET note = note || note WHERE qty > 5;
DELETE FROM sale WHERE id % 3 = 0;
SELECT count(*), sum(length(note)), total(qty) FROM sale;
SELECT region, group_concat(DISTINCT qty) FROM customer JOIN sale ON sale.customer = customer.id
 GROUP BY region ORDER BY region LIMIT 5;
