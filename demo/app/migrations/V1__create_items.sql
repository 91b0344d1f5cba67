CREATE TABLE items (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name text NOT NULL,
    price_cents integer NOT NULL
);
INSERT INTO items (name, price_cents)
SELECT 'item ' || g, (g * 37) % 10000 FROM generate_series(1, 1000) AS g;
