package dev.tranche.scheduler.inventory;

import dev.tranche.scheduler.core.model.Gpu;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class NvidiaSmiInventoryTest
{
    @Test
    void readsTheRealOutputOfAnH200()
            throws IOException
    {
        // copied from shared/fixtures/nvidia-smi-h200: nvidia-smi --query-gpu=... --format=csv on one H200
        String csv;
        try (InputStream in = NvidiaSmiInventoryTest.class.getResourceAsStream("/nvidia-smi/h200-query.csv")) {
            csv = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertThat(NvidiaSmiInventory.parse(csv)).containsExactly(new Gpu(0, "NVIDIA-H200", 143771));
    }

    @Test
    void leavesOutMigGpusAndRefusesBrokenLines()
    {
        String header = "index, name, memory.total [MiB], mig.mode.current\n";
        List<Gpu> gpus = NvidiaSmiInventory.parse(header + "0, NVIDIA A100-SXM4-80GB, 81920 MiB, Enabled\n1, NVIDIA A100-SXM4-80GB, 81920 MiB, Disabled\n");
        assertThat(gpus).containsExactly(new Gpu(1, "NVIDIA-A100-SXM4-80GB", 81920));
        assertThat(NvidiaSmiInventory.parse("")).isEmpty();
        assertThatThrownBy(() -> NvidiaSmiInventory.parse(header + "0, H100\n")).hasMessageContaining("line 2 has 2 fields, the header 4");
        assertThatThrownBy(() -> NvidiaSmiInventory.parse(header + "zero, H100, lots MiB, Disabled\n")).hasMessageContaining("cannot read the index or memory");
        assertThatThrownBy(() -> NvidiaSmiInventory.parse("index, name\n0, H100\n")).hasMessageContaining("no memory.total column");
    }
}
