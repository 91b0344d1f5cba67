ALTER TABLE tenants DROP COLUMN IF EXISTS database_pool_mode;
