package dev.lockkeeper.webhook.rules;

import static org.junit.jupiter.api.Assertions.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.lockkeeper.webhook.admission.Operation;
import dev.lockkeeper.webhook.admission.Verdict;
import dev.lockkeeper.webhook.rules.datavolume.DataVolumeSpecValidation;
import dev.lockkeeper.webhook.support.Reviews;
import dev.lockkeeper.webhook.support.TestCluster;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CDI v1.66 {@code pkg/apiserver/webhooks/datavolume-validate_test.go}, case by case (each names the
 * upstream {@code It}/{@code Entry} it mirrors), in embedded mode. Messages are CDI's.
 */
class DataVolumeValidateUpstreamTest {
    static final String PVC_1G = "pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}";
    static final String STORAGE_1G = "storage: {resources: {requests: {storage: 1Gi}}}";
    static final String SHA256 = "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae";

    final DataVolumeSpecValidation rule = new DataVolumeSpecValidation();

    static Stream<Arguments> rejected() {
        return Stream.of(
                // "should reject DataVolume with GCS source on create"
                Arguments.of(
                        "{source: {gcs: {url: 'gcs://www.example.com'}}, " + PVC_1G + "}",
                        "spec.source Invalid source URL scheme: gcs://www.example.com"),
                // "should reject DataVolume source with invalid URL on create"
                Arguments.of(
                        "{source: {http: {url: 'invalidurl'}}, " + PVC_1G + "}",
                        "spec.source Invalid source URL: invalidurl"),
                Arguments.of("{source: {http: {url: ''}}, " + PVC_1G + "}", "spec.source source URL is empty"),
                Arguments.of(
                        "{source: {s3: {url: 'ftp://bucket/disk'}}, " + PVC_1G + "}",
                        "spec.source Invalid source URL scheme: ftp://bucket/disk"),
                // "should reject DataVolume with Registry source ImageStream and pod PullMethod on create"
                Arguments.of(
                        "{source: {registry: {imageStream: istream}}, " + PVC_1G + "}",
                        "Source registry ImageStream is supported only with node pull import method"),
                Arguments.of(
                        "{source: {registry: {imageStream: istream, pullMethod: pod}}, " + PVC_1G + "}",
                        "Source registry ImageStream is supported only with node pull import method"),
                Arguments.of(
                        "{source: {registry: {imageStream: '', pullMethod: node}}, " + PVC_1G + "}",
                        "Source registry ImageStream is not valid"),
                // "should reject DataVolume with Registry source on create with no url or ImageStream"
                Arguments.of(
                        "{source: {registry: {}}, " + PVC_1G + "}",
                        "Source registry should have either URL or ImageStream"),
                // "should reject DataVolume with Registry source on create with both url and ImageStream"
                Arguments.of(
                        "{source: {registry: {url: 'docker://registry:5000/test', imageStream: istream}}, " + PVC_1G
                                + "}",
                        "Source registry should have either URL or ImageStream"),
                // "should reject DataVolume with Registry source on create with non-kubevirt contentType"
                Arguments.of(
                        "{contentType: archive, source: {registry: {url: 'docker://registry:5000/test'}}, " + PVC_1G
                                + "}",
                        "ContentType must be kubevirt when Source is Registry"),
                // "should reject DataVolume with Registry source on create with illegal source URL"
                Arguments.of(
                        "{source: {registry: {url: 'docker/::registry:5000/test'}}, " + PVC_1G + "}",
                        "Illegal registry source URL scheme docker/::registry:5000/test"),
                // "should reject DataVolume with Registry source on create with illegal transport in source URL"
                Arguments.of(
                        "{source: {registry: {url: 'joker://registry:5000/test'}}, " + PVC_1G + "}",
                        "Illegal registry source URL scheme joker://registry:5000/test"),
                // "should reject DataVolume with Registry source on create with illegal importMethod"
                Arguments.of(
                        "{source: {registry: {url: 'docker://registry:5000/test', pullMethod: nothing}}, " + PVC_1G
                                + "}",
                        "ImportMethod nothing is neither pod, node or \"\""),
                // "should reject invalid DataVolume source PVC namespace on create" / "... name on create"
                Arguments.of(
                        "{source: {pvc: {name: test}}, " + PVC_1G + "}", "spec.source.PVC source PVC is not valid"),
                Arguments.of(
                        "{source: {pvc: {namespace: testNamespace}}, " + PVC_1G + "}",
                        "spec.source.PVC source PVC is not valid"),
                Arguments.of(
                        "{source: {snapshot: {name: test}}, " + PVC_1G + "}",
                        "spec.source.Snapshot source snapshot is not valid"),
                // "should reject DataVolume with multiple sources on create"
                Arguments.of(
                        "{source: {http: {url: 'http://www.example.com'}, pvc: {namespace: a, name: b}}, " + PVC_1G
                                + "}",
                        "Multiple Data volume sources"),
                // "should reject DataVolume with empty PVC create"
                Arguments.of("{source: {http: {url: 'http://www.example.com'}}}", "Missing Data volume PVC"),
                // "should reject DataVolume with PVC size 0"
                Arguments.of(
                        "{source: {http: {url: 'http://www.example.com'}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: '0'}}}}",
                        "PVC size can't be equal or less than zero"),
                // "should reject DataVolume with size smaller than 1MiB"
                Arguments.of(
                        "{source: {http: {url: 'http://www.example.com'}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Ki}}}}",
                        "PVC size should be at least 1MiB"),
                // "should reject DataVolume with Blank source and archive contentType"
                Arguments.of(
                        "{contentType: archive, source: {blank: {}}, " + PVC_1G + "}",
                        "SourceType cannot be blank and the contentType be archive"),
                // "should reject DataVolume with invalid contentType"
                Arguments.of(
                        "{contentType: invalid, source: {http: {url: 'http://www.example.com'}}, " + PVC_1G + "}",
                        "ContentType not one of: kubevirt, archive"),
                // "should reject DataVolume with Storage spec too long StorageClassName" (and the PVC spec twin)
                Arguments.of(
                        "{source: {blank: {}}, storage: {storageClassName: " + "a".repeat(254)
                                + ", resources: {requests: {storage: 1Gi}}}}",
                        "Name cannot be longer than 253 characters"),
                Arguments.of(
                        "{source: {blank: {}}, pvc: {storageClassName: " + "a".repeat(254)
                                + ", accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "Name cannot be longer than 253 characters"),
                // "should reject clones with both nil Storage and PVC spec" / "... both Storage and PVC spec"
                Arguments.of("{source: {pvc: {namespace: a, name: b}}}", "Missing Data volume PVC"),
                Arguments.of(
                        "{source: {pvc: {namespace: a, name: b}}, storage: {}, pvc: {}}",
                        "Duplicate storage definition, both target storage and target pvc defined"),
                // "should reject empty Requests when cloning using PVC API"
                Arguments.of(
                        "{source: {pvc: {namespace: a, name: b}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {}}}}",
                        "PVC size is missing"),
                // "should reject empty Requests when using Storage API with DataVolumeSource but without
                // DataVolumeSourcePVC"
                Arguments.of(
                        "{source: {http: {url: 'http://www.example.com'}}, storage: {resources: {requests: {}}}}",
                        "Storage size is missing"),
                // "should reject DataVolume with populated source and dataSource" / "... and dataSourceRef"
                Arguments.of(
                        "{source: {blank: {}}, pvc: {dataSource: {kind: PersistentVolumeClaim, name: test-dv}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "External population is incompatible with Source and SourceRef"),
                Arguments.of(
                        "{source: {blank: {}}, pvc: {dataSourceRef: {kind: PersistentVolumeClaim, name: test-dv}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "External population is incompatible with Source and SourceRef"),
                // "should reject DataVolume with badly populated dataSource"
                Arguments.of(
                        "{pvc: {dataSource: {kind: VolumeSnapshot, name: test-dv}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "Required value: DataSource apiGroup when kind is not 'PersistentVolumeClaim'"),
                Arguments.of(
                        "{pvc: {dataSource: {kind: PersistentVolumeClaim}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "Required value: DataSource name"),
                Arguments.of(
                        "{" + STORAGE_1G.replace("}}}", "}}, dataSourceRef: {name: x}}") + "}",
                        "Required value: DataSourceRef kind; Required value: DataSourceRef apiGroup when kind is not 'PersistentVolumeClaim'"),
                // "should reject DataVolume with if dataSource and dataSourceRef are different"
                Arguments.of(
                        "{pvc: {dataSource: {kind: PersistentVolumeClaim, name: test-dv}, dataSourceRef: {kind: PersistentVolumeClaim, name: test-dv-test},"
                                + " accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "DataSourceRef and DataSource must match"),
                // "should reject DataVolume with cross namespace dataSourceRef"
                Arguments.of(
                        "{pvc: {dataSourceRef: {namespace: foo, kind: PersistentVolumeClaim, name: test-dv}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}",
                        "Invalid value: DataSourceRef namespace not supported"),
                // "should reject DataVolume with empty SourceRef name on create"
                Arguments.of("{sourceRef: {kind: DataSource}, " + STORAGE_1G + "}", "Missing sourceRef name"),
                // "should reject DataVolume with both source and sourceRef on create": upstream's message, no
                // DataSource lookup
                Arguments.of(
                        "{source: {http: {url: 'http://www.example.com'}}, sourceRef: {kind: DataSource, name: missing}, "
                                + STORAGE_1G + "}",
                        "Data volume should have either Source or SourceRef, or be externally populated"),
                // "should reject DataVolume with no source or sourceRef on create"
                Arguments.of(
                        "{" + STORAGE_1G + "}",
                        "Data volume should have either Source or SourceRef, or be externally populated"),
                // ImageIO and VDDK required fields (validateImageIOSource / validateVDDKSource)
                Arguments.of(
                        "{source: {imageio: {url: 'https://engine/api', diskId: d}}, " + PVC_1G + "}",
                        "spec.source.Imageio source Imageio is not valid"),
                Arguments.of(
                        "{source: {imageio: {url: 'https://engine/api', diskId: d, secretRef: s}}, " + PVC_1G + "}",
                        "spec.source.Imageio source Imageio requires CertConfigMap or InsecureSkipVerify"),
                Arguments.of(
                        "{source: {imageio: {url: 'engine', diskId: d, secretRef: s, insecureSkipVerify: true}}, "
                                + PVC_1G + "}",
                        "spec.source Invalid source URL: engine"),
                Arguments.of(
                        "{source: {vddk: {url: 'https://vcenter', uuid: u, backingFile: f, secretRef: s}}, " + PVC_1G
                                + "}",
                        "spec.source.VDDK source VDDK is not valid"),
                Arguments.of(
                        "{source: {vddk: {url: 'vcenter:443', uuid: u, backingFile: f, secretRef: s, thumbprint: t}}, "
                                + PVC_1G + "}",
                        "spec.source Invalid source URL scheme: vcenter:443"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("rejected")
    void rejectsAsUpstream(String spec, String message) {
        Verdict.Deny deny =
                assertInstanceOf(Verdict.Deny.class, create(TestCluster.with(), dataVolume("test-dv", "{}", spec)));
        assertEquals(422, deny.code());
        assertEquals(message, deny.message());
    }

    static Stream<Arguments> accepted() {
        return Stream.of(
                // "should accept DataVolume with HTTP source on create"
                Arguments.of("http", "{source: {http: {url: 'http://www.example.com'}}, " + PVC_1G + "}"),
                // "should accept DataVolume with GS source on create"
                Arguments.of("gs", "{source: {gcs: {url: 'gs://www.example.com'}}, " + PVC_1G + "}"),
                // "should accept DataVolume with Registry source URL on create"
                Arguments.of(
                        "registry url", "{source: {registry: {url: 'docker://registry:5000/test'}}, " + PVC_1G + "}"),
                Arguments.of("registry oci", "{source: {registry: {url: 'oci://registry:5000/test'}}, " + PVC_1G + "}"),
                // "should accept DataVolume with Registry source ImageStream and node PullMethod on create"
                Arguments.of(
                        "imageStream node",
                        "{source: {registry: {imageStream: istream, pullMethod: node}}, " + PVC_1G + "}"),
                // "should accept DataVolume with Registry source on create with supported importMethod"
                Arguments.of(
                        "pullMethod pod",
                        "{source: {registry: {url: 'docker://registry:5000/test', pullMethod: pod}}, " + PVC_1G + "}"),
                // "should accept DataVolume with PVC source on create" / "... if PVC does not exist"
                Arguments.of("pvc source", "{source: {pvc: {namespace: testNamespace, name: test}}, " + PVC_1G + "}"),
                // "should accept DataVolume with Storage spec blank StorageClassName" / "... empty StorageClassName"
                Arguments.of(
                        "blank storage class",
                        "{source: {blank: {}}, storage: {storageClassName: '', resources: {requests: {storage: 1Gi}}}}"),
                Arguments.of(
                        "253-char storage class",
                        "{source: {blank: {}}, storage: {storageClassName: " + "a".repeat(253)
                                + ", resources: {requests: {storage: 1Gi}}}}"),
                // "should accept DataVolume with Blank source and no content type" / "... kubevirt contentType"
                Arguments.of("blank", "{source: {blank: {}}, " + PVC_1G + "}"),
                Arguments.of("blank kubevirt", "{contentType: kubevirt, source: {blank: {}}, " + PVC_1G + "}"),
                // "should accept DataVolume with archive contentType"
                Arguments.of(
                        "archive",
                        "{contentType: archive, source: {http: {url: 'http://www.example.com'}}, " + PVC_1G + "}"),
                // "should accept empty Storage spec when cloning PVC" / "blank Resources" / "empty Requests when
                // cloning using Storage API"
                Arguments.of("clone empty storage", "{source: {pvc: {namespace: a, name: b}}, storage: {}}"),
                Arguments.of(
                        "clone blank resources", "{source: {pvc: {namespace: a, name: b}}, storage: {resources: {}}}"),
                Arguments.of(
                        "clone empty requests",
                        "{source: {pvc: {namespace: a, name: b}}, storage: {resources: {requests: {}}}}"),
                // "should allow empty Requests when using Storage API with DataVolumeSourceRef"
                Arguments.of("sourceRef no size", "{sourceRef: {kind: DataSource, name: test}, storage: {}}"),
                // "should allow DataVolume with SourceRef on create if DataSource does not exist": the validating
                // webhook never looks it up
                Arguments.of(
                        "sourceRef missing",
                        "{sourceRef: {kind: DataSource, namespace: nowhere, name: missing}, " + STORAGE_1G + "}"),
                // "should accept DataVolume without source if dataSource is correctly populated" / "... dataSourceRef
                // ..."
                Arguments.of(
                        "dataSource",
                        "{pvc: {dataSource: {kind: PersistentVolumeClaim, name: test-dv}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}"),
                Arguments.of(
                        "dataSourceRef",
                        "{pvc: {dataSourceRef: {kind: PersistentVolumeClaim, name: test-dv}, accessModes: [ReadWriteOnce], resources: {requests: {storage: 1Gi}}}}"),
                // Lockkeeper's own populator is a valid external populator target; dataSource and dataSourceRef naming
                // the same object
                Arguments.of(
                        "lockkeeper VolumeCopy",
                        "{storage: {dataSourceRef: {apiGroup: lockkeeper.dev, kind: VolumeCopy, name: copy-1}, resources: {requests: {storage: 1Gi}}}}"),
                Arguments.of(
                        "matching dataSource and dataSourceRef",
                        "{storage: {dataSource: {apiGroup: lockkeeper.dev, kind: VolumeCopy, name: copy-1},"
                                + " dataSourceRef: {apiGroup: lockkeeper.dev, kind: VolumeCopy, name: copy-1}, resources: {requests: {storage: 1Gi}}}}"),
                Arguments.of(
                        "imageio",
                        "{source: {imageio: {url: 'https://engine/api', diskId: d, secretRef: s, certConfigMap: c}}, "
                                + PVC_1G + "}"),
                Arguments.of(
                        "vddk",
                        "{source: {vddk: {url: 'https://vcenter/sdk', uuid: u, backingFile: f, secretRef: s, thumbprint: t}}, "
                                + PVC_1G + "}"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("accepted")
    void acceptsAsUpstream(String name, String spec) {
        assertEquals(Verdict.allow(), create(TestCluster.with(), dataVolume("test-dv", "{}", spec)));
    }

    static Stream<Arguments> checksums() {
        return Stream.of(
                // DescribeTable "should validate HTTP source checksum field", every Entry
                Arguments.of("md5:5d41402abc4b2a76b9719d911017c592", null),
                Arguments.of("sha1:2fd4e1c67a2d28fced849ee1bb76e7391b93eb12", null),
                Arguments.of("sha256:" + SHA256, null),
                Arguments.of(
                        "sha512:f7fbba6e0636f890e56fbbf3283e524c6fa3204ae298382d624741d0dc6638326e282c41be5e4254d8820772c5518a2c5a8c0c7f7eda19594a7eb539453e1ed7",
                        null),
                Arguments.of("sha256:" + SHA256.toUpperCase(), null),
                Arguments.of("sha256:2c26B46b68FFC68ff99B453c1d30413413422d706483bfa0f98a5e886266e7ae", null),
                Arguments.of("", null),
                Arguments.of(
                        "sha256abc123",
                        "Invalid checksum format: invalid checksum format: expected 'algorithm:hash', got 'sha256abc123'"),
                Arguments.of(
                        "sha256:abc:123",
                        "Invalid checksum format: invalid sha256 hash length: expected 64 hex characters, got 7"),
                Arguments.of(
                        "sha384:abc123",
                        "Invalid checksum format: unsupported hash algorithm 'sha384': supported algorithms are: md5, sha1, sha256, sha512"),
                Arguments.of(
                        "md5:abc123",
                        "Invalid checksum format: invalid md5 hash length: expected 32 hex characters, got 6"),
                Arguments.of(
                        "sha1:abc123",
                        "Invalid checksum format: invalid sha1 hash length: expected 40 hex characters, got 6"),
                Arguments.of(
                        "sha256:abc123",
                        "Invalid checksum format: invalid sha256 hash length: expected 64 hex characters, got 6"),
                Arguments.of(
                        "sha512:abc123",
                        "Invalid checksum format: invalid sha512 hash length: expected 128 hex characters, got 6"),
                Arguments.of(
                        "sha256:" + SHA256.substring(0, 63) + "g",
                        "Invalid checksum format: checksum hash is not valid hexadecimal: encoding/hex: invalid byte: U+0067 'g'"),
                Arguments.of(
                        "sha256:" + SHA256.substring(0, 63) + "!",
                        "Invalid checksum format: checksum hash is not valid hexadecimal: encoding/hex: invalid byte: U+0021 '!'"));
    }

    @ParameterizedTest(name = "checksum \"{0}\"")
    @MethodSource("checksums")
    void validatesHttpChecksums(String checksum, String message) {
        Verdict verdict = create(
                TestCluster.with(),
                dataVolume(
                        "test-dv",
                        "{}",
                        "{source: {http: {url: 'http://www.example.com', checksum: '" + checksum + "'}}, " + PVC_1G
                                + "}"));
        if (message == null) {
            assertEquals(Verdict.allow(), verdict);
        } else {
            assertEquals(message, assertInstanceOf(Verdict.Deny.class, verdict).message());
        }
    }

    static final String HTTP_DV = "{source: {http: {url: 'http://www.example.com'}}, " + PVC_1G + "}";
    static final String EXISTING_PVC = """
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata: {name: test-dv, namespace: team-a}
            spec: {volumeName: pv}
            """;
    static final String ADOPTION_GATE = """
            apiVersion: cdi.kubevirt.io/v1beta1
            kind: CDIConfig
            metadata: {name: config}
            spec: {featureGates: [HonorWaitForFirstConsumer, DataVolumeClaimAdoption]}
            """;

    static Stream<Arguments> existingPvc() {
        String adopt = "{cdi.kubevirt.io/allowClaimAdoption: 'true'}";
        String refuse = "{cdi.kubevirt.io/allowClaimAdoption: 'false'}";
        return Stream.of(
                // "should reject DataVolume when target pvc exists"
                Arguments.of("unowned, no adoption", "{}", EXISTING_PVC, false),
                // "should accept DataVolume with PVC initialized create"
                Arguments.of(
                        "populatedFor this DataVolume",
                        "{}",
                        EXISTING_PVC.replace(
                                "name: test-dv,",
                                "name: test-dv, annotations: {cdi.kubevirt.io/storage.populatedFor: test-dv},"),
                        true),
                // "should accept DataVolume with PVC adoption annotation" / "... unbound PVC and adoption annotation"
                Arguments.of("adoption annotation", adopt, EXISTING_PVC, true),
                Arguments.of(
                        "adoption annotation, unbound", adopt, EXISTING_PVC.replace("{volumeName: pv}", "{}"), true),
                // "should reject DataVolume with PVC adoption annotation false" (the annotation sits on the PVC there:
                // ignored)
                Arguments.of(
                        "annotation on the PVC is ignored",
                        "{}",
                        EXISTING_PVC.replace(
                                "name: test-dv,",
                                "name: test-dv, annotations: {cdi.kubevirt.io/allowClaimAdoption: 'false'},"),
                        false),
                // "should accept DataVolume with PVC and adoption featurgate set" / "... unbound PVC and adoption
                // featurgate set"
                Arguments.of("feature gate", "{}", EXISTING_PVC + "---\n" + ADOPTION_GATE, true),
                // "should reject DataVolume with PVC adoption annotation false and featuregate set"
                Arguments.of("annotation false beats gate", refuse, EXISTING_PVC + "---\n" + ADOPTION_GATE, false),
                // strconv.ParseBool: an unparsable value is false, and still beats the gate
                Arguments.of(
                        "annotation unparsable beats gate",
                        "{cdi.kubevirt.io/allowClaimAdoption: 'yes'}",
                        EXISTING_PVC + "---\n" + ADOPTION_GATE,
                        false),
                Arguments.of("annotation 'T'", "{cdi.kubevirt.io/allowClaimAdoption: 'T'}", EXISTING_PVC, true),
                // the DataVolume controller manages a PVC a DataVolume controls
                Arguments.of(
                        "controlled by a DataVolume",
                        "{}",
                        EXISTING_PVC.replace(
                                "namespace: team-a}",
                                "namespace: team-a, ownerReferences: [{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, name: test-dv, uid: u1, controller: true}]}"),
                        true),
                Arguments.of(
                        "controlled by something else",
                        "{}",
                        EXISTING_PVC.replace(
                                "namespace: team-a}",
                                "namespace: team-a, ownerReferences: [{apiVersion: apps/v1, kind: StatefulSet, name: db, uid: u2, controller: true}]}"),
                        false),
                Arguments.of(
                        "DataVolume owner that is not the controller",
                        "{}",
                        EXISTING_PVC.replace(
                                "namespace: team-a}",
                                "namespace: team-a, ownerReferences: [{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, name: test-dv, uid: u1}]}"),
                        false),
                // AllowClaimAdoption: a PVC CDI created for this DataVolume (same uid) is not adopted
                Arguments.of(
                        "created for this DataVolume",
                        adopt,
                        EXISTING_PVC.replace(
                                "name: test-dv,",
                                "name: test-dv, annotations: {cdi.kubevirt.io/createdForDataVolume: dv-uid},"),
                        false),
                Arguments.of(
                        "gate on another CDIConfig is not read",
                        "{}",
                        EXISTING_PVC + "---\n" + ADOPTION_GATE.replace("name: config", "name: other"),
                        false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("existingPvc")
    void existingTargetPvc(String name, String annotations, String cluster, boolean allowed) {
        Verdict verdict = create(TestCluster.with(cluster), dataVolume("test-dv", annotations, HTTP_DV));
        if (allowed) {
            assertEquals(Verdict.allow(), verdict);
        } else {
            assertEquals(
                    "Destination PVC team-a/test-dv already exists",
                    assertInstanceOf(Verdict.Deny.class, verdict).message());
        }
    }

    @Test
    void updatesCheckTheSpecSemantically() {
        TestCluster cluster = TestCluster.with(EXISTING_PVC);
        String mebibytes =
                "{source: {http: {url: 'http://www.example.com'}}, pvc: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 5Mi}}}}";
        // "should accept DataVolume spec PVC size format update"
        assertEquals(Verdict.allow(), update(cluster, mebibytes, mebibytes.replace("5Mi", "5242880")));
        // "should reject DataVolume spec PVC size update"
        assertEquals(
                "Cannot update DataVolume Spec",
                assertInstanceOf(Verdict.Deny.class, update(cluster, mebibytes, mebibytes.replace("5Mi", "6Mi")))
                        .message());
        // "should reject invalid DataVolume spec update"
        assertEquals(
                "Cannot update DataVolume Spec",
                assertInstanceOf(
                                Verdict.Deny.class,
                                update(cluster, mebibytes, mebibytes.replace("www.example.com", "www.example.org")))
                        .message());
        // null and empty lists equal absence, as Go's nil slices do; an existing PVC is no matter on UPDATE
        assertEquals(
                Verdict.allow(),
                update(cluster, mebibytes, mebibytes.replace("}}}}", "}}}, checkpoints: [], priorityClassName: ''}")));
    }

    static Stream<Arguments> multiStage() {
        String vddk = "vddk: {url: 'https://vcenter/sdk', uuid: u, backingFile: f, secretRef: s, thumbprint: t}";
        String imageio = "imageio: {url: 'https://engine/api', diskId: d, secretRef: s, certConfigMap: c}";
        return Stream.of(
                // DescribeTable multi-stage: "accept a spec change on multi-stage VDDK import fields"
                Arguments.of(
                        vddk,
                        "[{previous: '', current: stage-1}]",
                        false,
                        "[{previous: '', current: stage-1}, {previous: stage-1, current: stage-2}]",
                        true,
                        vddk,
                        true),
                // "reject a spec change on un-approved fields of a multi-stage VDDK import"
                Arguments.of(
                        vddk,
                        "[{previous: '', current: stage-1}]",
                        false,
                        "[{previous: '', current: stage-1}, {previous: stage-1, current: stage-2}]",
                        true,
                        vddk.replace("https://vcenter/sdk", "testing123"),
                        false),
                // "accept identical multi-stage VDDK import field changes"
                Arguments.of(
                        vddk,
                        "[{previous: '', current: stage-1}]",
                        false,
                        "[{previous: '', current: stage-1}]",
                        false,
                        vddk,
                        true),
                // "reject a spec change on un-approved fields, even with identical non-empty multi-stage fields"
                Arguments.of(
                        vddk,
                        "[{previous: '', current: stage-1}]",
                        false,
                        "[{previous: '', current: stage-1}]",
                        false,
                        vddk.replace("https://vcenter/sdk", "tesing123"),
                        false),
                // "accept a spec change on multi-stage ImageIO import fields"
                Arguments.of(
                        imageio,
                        "[{previous: '', current: snapshot-123}]",
                        false,
                        "[{previous: '', current: snapshot-123}, {previous: snapshot-123, current: snapshot-234}]",
                        true,
                        imageio,
                        true),
                // "reject a spec change on source type that does not support multi-stage import"
                Arguments.of("blank: {}", "[]", false, "[]", true, "blank: {}", false));
    }

    @ParameterizedTest
    @MethodSource("multiStage")
    void multiStageCheckpointUpdates(
            String oldSource,
            String oldCheckpoints,
            boolean oldFinal,
            String newCheckpoints,
            boolean newFinal,
            String newSource,
            boolean admitted) {
        String old = "{source: {" + oldSource + "}, " + PVC_1G + ", checkpoints: " + oldCheckpoints
                + ", finalCheckpoint: " + oldFinal + "}";
        String updated = "{source: {" + newSource + "}, " + PVC_1G + ", checkpoints: " + newCheckpoints
                + ", finalCheckpoint: " + newFinal + "}";
        Verdict verdict = update(TestCluster.with(), old, updated);
        if (admitted) {
            assertEquals(Verdict.allow(), verdict);
        } else {
            assertEquals(
                    "Cannot update DataVolume Spec",
                    assertInstanceOf(Verdict.Deny.class, verdict).message());
        }
    }

    @Test
    void updatesAreValidatedLikeCreates() {
        // upstream runs validateDataVolumeSpec on UPDATE too: an unchanged but invalid spec is still refused
        String invalid = "{source: {http: {url: 'ftp://x'}}, " + PVC_1G + "}";
        assertEquals(
                "spec.source Invalid source URL scheme: ftp://x",
                assertInstanceOf(Verdict.Deny.class, update(TestCluster.with(), invalid, invalid))
                        .message());
    }

    private Verdict create(TestCluster cluster, ObjectNode dataVolume) {
        return rule.admit(Reviews.context(
                Reviews.dataVolume(Operation.CREATE, "team-a", dataVolume, null, Reviews.ALICE), cluster));
    }

    private Verdict update(TestCluster cluster, String oldSpec, String newSpec) {
        return rule.admit(Reviews.context(
                Reviews.dataVolume(
                        Operation.UPDATE,
                        "team-a",
                        dataVolume("test-dv", "{}", newSpec),
                        dataVolume("test-dv", "{}", oldSpec),
                        Reviews.ALICE),
                cluster));
    }

    static ObjectNode dataVolume(String name, String annotations, String spec) {
        return TestCluster.yaml("{apiVersion: cdi.kubevirt.io/v1beta1, kind: DataVolume, metadata: {name: " + name
                + ", namespace: team-a, uid: dv-uid, annotations: " + annotations + "}, spec: " + spec + "}");
    }
}
