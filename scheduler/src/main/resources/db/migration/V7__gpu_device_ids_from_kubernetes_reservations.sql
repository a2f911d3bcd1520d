-- The device each GPU was given by NVIDIA's device plugin while Tranche reserves it on Kubernetes
-- (a UUID such as GPU-8f3c..., or an index where the device plugin hands out indices); NULL while no
-- reservation holds it, since the next one may get another device.
ALTER TABLE gpus ADD COLUMN device_id text;
