package dev.gantry.store.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class OnnxGraphTest {

    @Test
    void build_whenNodeReadsUndefinedValue_throwsNamingIt() {
        OnnxGraph.Builder builder = OnnxGraph.builder("g")
                .input("x", ElemType.FLOAT, 1)
                .node("Add", List.of("x", "missing"), "y")
                .output("y", ElemType.FLOAT, 1);

        IllegalStateException e = assertThrows(IllegalStateException.class, builder::build);
        assertEquals("node 'add_0' reads 'missing', which is not a graph input, initializer or earlier node output",
                e.getMessage());
    }

    @Test
    void build_whenOutputIsNeverProduced_throws() {
        OnnxGraph.Builder builder = OnnxGraph.builder("g")
                .input("x", ElemType.FLOAT, 1)
                .output("y", ElemType.FLOAT, 1);

        assertThrows(IllegalStateException.class, builder::build);
    }

    @Test
    void build_whenValueIsDefinedTwice_throws() {
        OnnxGraph.Builder builder = OnnxGraph.builder("g")
                .input("x", ElemType.FLOAT, 1)
                .initializer(Initializer.scalar("x", 1f))
                .output("x", ElemType.FLOAT, 1);

        assertThrows(IllegalStateException.class, builder::build);
    }

    @Test
    void tensor_withMinusOne_makesSymbolicDims() {
        ValueInfo value = ValueInfo.tensor("a", ElemType.INT32, -1, 4, -1);

        assertEquals(List.of(Dim.param("batch"), Dim.of(4), Dim.param("a_dim2")), value.shape());
    }

    @Test
    void initializer_whenBytesDoNotMatchShape_throws() {
        assertThrows(IllegalArgumentException.class,
                () -> Initializer.raw("w", ElemType.INT64, new byte[12], 2));
    }

    @Test
    void toBytes_ofEqualGraphs_givesIdenticalBytes() {
        assertArrayEquals(SampleModels.mlp().toBytes(), SampleModels.mlp().toBytes());
    }
}
