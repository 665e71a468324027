package dev.gantry.http.architecture;

import com.tngtech.archunit.base.DescribedPredicate;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.lang.ArchRule;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Set;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

/**
 * The layering of the README's Layout section, checked on the compiled classes of every module:
 * {@code model-store <- runtime-core <- runtime-http}, transports reach the store only through core (and a short
 * list of value types), and no package depends on itself through others.
 */
class ArchitectureTest {
    /**
     * Store types runtime-http may name (with their nested types): immutable values that core's API takes and returns,
     * and the SHA-256 helper.
     */
    static final Set<String> STORE_VALUES_FOR_HTTP = Set.of(
            "dev.gantry.store.deployment.TrafficPolicy", "dev.gantry.store.deployment.Route",
            "dev.gantry.store.deployment.ShadowRoute", "dev.gantry.store.deployment.PolicyRevision",
            "dev.gantry.store.catalog.ReleaseRecord", "dev.gantry.store.catalog.ReleaseStage",
            "dev.gantry.store.catalog.Approval", "dev.gantry.store.catalog.Approval$Decision",
            "dev.gantry.store.catalog.ModelCard", "dev.gantry.store.catalog.RiskTier",
            "dev.gantry.store.catalog.AuditEntry", "dev.gantry.store.catalog.AuditQuery",
            "dev.gantry.store.catalog.AuditVerification",
            "dev.gantry.store.repository.ModelEntry", "dev.gantry.store.repository.ModelVersionEntry",
            "dev.gantry.store.repository.ModelConfig", "dev.gantry.store.digest.Sha256",
            "dev.gantry.store.usage.UsageQuery", "dev.gantry.store.usage.UsageGroup", "dev.gantry.store.usage.UsageRow",
            "dev.gantry.store.usage.UsageCounts", "dev.gantry.store.repository.VersionPolicy",
            "dev.gantry.store.repository.DynamicBatching", "dev.gantry.store.repository.InstanceGroup",
            "dev.gantry.store.repository.GantryOptions", "dev.gantry.store.repository.OutputConfig",
            "dev.gantry.store.artifact.UploadLimits", "dev.gantry.store.catalog.CatalogLocation",
            "dev.gantry.store.artifact.S3Settings", "dev.gantry.store.artifact.S3Settings$Credentials",
            "dev.gantry.store.keys.StoredKey");

    private static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter().withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("dev.gantry");
    }

    @Test
    void modelStore_importsNeitherCoreNorHttp() {
        check(noClasses().that().resideInAPackage("dev.gantry.store..")
                .should().dependOnClassesThat().resideInAnyPackage("dev.gantry.core..", "dev.gantry.http.."));
    }

    @Test
    void runtimeCore_importsNoVertxJacksonOrHttp() {
        check(noClasses().that().resideInAPackage("dev.gantry.core..")
                .should().dependOnClassesThat().resideInAnyPackage("io.vertx..", "com.fasterxml..", "dev.gantry.http.."));
    }

    @Test
    void runtimeHttp_reachesTheStoreOnlyThroughCoreAndNamedValueTypes() {
        check(noClasses().that().resideInAPackage("dev.gantry.http..")
                .should().dependOnClassesThat(storeClassesOtherThan(STORE_VALUES_FOR_HTTP)));
    }

    @Test
    void packages_haveNoCycles() {
        check(slices().matching("dev.gantry.(**)").should().beFreeOfCycles());
    }

    private static DescribedPredicate<JavaClass> storeClassesOtherThan(Set<String> allowed) {
        return DescribedPredicate.describe("are store classes other than " + allowed.size() + " named value types",
                c -> c.getPackageName().startsWith("dev.gantry.store")
                        && !allowed.contains(c.getName().replaceFirst("\\$.*", "")));
    }

    private static void check(ArchRule rule) {
        rule.check(classes);
    }
}
