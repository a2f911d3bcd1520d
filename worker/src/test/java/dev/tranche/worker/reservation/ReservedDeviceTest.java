package dev.tranche.worker.reservation;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

final class ReservedDeviceTest
{
    @TempDir
    Path directory;

    @Test
    void readsTheUuidOrIndexTheDevicePluginSetInTheEnvironment()
    {
        Path none = directory.resolve("no-driver");
        assertThat(ReservedDevice.find(Optional.of("GPU-5f0d2c1e-93a4-4b8e-bb1c-2f6e0f1a7c44"), none).id()).isEqualTo("GPU-5f0d2c1e-93a4-4b8e-bb1c-2f6e0f1a7c44");
        assertThat(ReservedDevice.find(Optional.of(" 3 "), none).id()).isEqualTo("3");
        assertThat(ReservedDevice.find(Optional.of("MIG-0c1d2e3f-aaaa-bbbb-cccc-0123456789ab"), none).id()).startsWith("MIG-");
    }

    @Test
    void readsTheDevicesDirectoryOfTheVolumeMountsStrategy()
            throws IOException
    {
        Path devices = Files.createDirectories(directory.resolve("nvidia-container-devices"));
        Files.createFile(devices.resolve("GPU-aaaaaaaa-0000-1111-2222-333333333333"));
        assertThat(ReservedDevice.find(Optional.of(devices.toString()), directory.resolve("none")).id()).isEqualTo("GPU-aaaaaaaa-0000-1111-2222-333333333333");
    }

    @Test
    void fallsBackToTheDriversGpuInformationWhenTheVariableNamesNoDevice()
            throws IOException
    {
        Path gpu = Files.createDirectories(directory.resolve("gpus").resolve("0000:3b:00.0"));
        Files.writeString(gpu.resolve("information"), """
                Model: 		 NVIDIA H200
                IRQ:   		 153
                GPU UUID: 	 GPU-0bd1b4b7-66aa-4d0f-a9c3-b1f0c1a0d9e2
                Video BIOS: 	 96.00.99.00.01
                """);
        assertThat(ReservedDevice.find(Optional.of("all"), directory.resolve("gpus")).id()).isEqualTo("GPU-0bd1b4b7-66aa-4d0f-a9c3-b1f0c1a0d9e2");
        assertThat(ReservedDevice.find(Optional.empty(), directory.resolve("gpus")).id()).isEqualTo("GPU-0bd1b4b7-66aa-4d0f-a9c3-b1f0c1a0d9e2");
    }

    @Test
    void refusesNoDeviceSeveralDevicesAndNamesThatAreNoDevice()
    {
        Path none = directory.resolve("no-driver");
        assertThatThrownBy(() -> ReservedDevice.find(Optional.of("void"), none))
                .hasMessageContaining("NVIDIA_VISIBLE_DEVICES is 'void'").hasMessageContaining("nvidia.com/gpu: 1");
        assertThatThrownBy(() -> ReservedDevice.find(Optional.of("GPU-a,GPU-b"), none))
                .hasMessage("a GPU reservation holds exactly one device, but NVIDIA_VISIBLE_DEVICES names 2: [GPU-a, GPU-b]");
        assertThatThrownBy(() -> ReservedDevice.find(Optional.of("GPU-a\"}}"), none)).hasMessageContaining("does not look like a GPU device");
    }
}
