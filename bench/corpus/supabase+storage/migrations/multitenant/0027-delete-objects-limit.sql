ALTER TABLE tenants ADD COLUMN IF NOT EXISTS delete_objects_limit int NULL;
