package dev.tranche.architecture;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The API module's package graph, on its compiled classes: the client SDK and the spec rules stand
 * on their own (the scheduler and the worker use them without the CLI), and no package imports one
 * that imports it back.
 */
class TestPackageDependencies
{
    private static final JavaClasses CLASSES = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("dev.tranche.cli", "dev.tranche.client", "dev.tranche.spec");

    @Test
    void noPackageCycles()
    {
        slices().matching("dev.tranche.(*)..").should().beFreeOfCycles().check(CLASSES);
    }

    @Test
    void theClientAndTheSpecRulesDoNotDependOnTheCommandLine()
    {
        noClasses().that().resideInAnyPackage("dev.tranche.client..", "dev.tranche.spec..")
                .should().dependOnClassesThat().resideInAPackage("dev.tranche.cli..")
                .because("the scheduler and the worker use the client and the spec rules without the CLI")
                .check(CLASSES);
    }
}
