package dev.tranche.worker.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;
import static org.assertj.core.api.Assertions.assertThat;

/** The worker module's packages import each other in one direction only (checked on its compiled classes). */
class TestPackageDependencies
{
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tranche.worker");

    @Test
    void noPackageCycles()
    {
        assertThat(CLASSES.containPackage("dev.tranche.worker.train")).isTrue();
        assertThat(CLASSES.containPackage("dev.tranche.worker.cluster")).isTrue();
        slices().matching("dev.tranche.worker.(*)..").should().beFreeOfCycles().check(CLASSES);
    }
}
