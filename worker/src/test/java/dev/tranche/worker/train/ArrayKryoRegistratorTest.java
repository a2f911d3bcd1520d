package dev.tranche.worker.train;

import dev.tranche.worker.data.ImageBatch;
import org.apache.spark.SparkConf;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import scala.reflect.ClassTag$;

import java.nio.ByteBuffer;

import static org.assertj.core.api.Assertions.assertThat;

/** Spark's real Kryo serializer with the registrator: arrays and batches come back equal. */
final class ArrayKryoRegistratorTest
{
    private final SerializerInstance kryo = new KryoSerializer(new SparkConf()
            .set("spark.kryo.registrator", ArrayKryoRegistrator.class.getName())).newInstance();

    @SuppressWarnings("unchecked")
    private <T> T roundTrip(T value)
    {
        ByteBuffer bytes = kryo.serialize(value, ClassTag$.MODULE$.apply(Object.class));
        return (T) kryo.deserialize(bytes, ClassTag$.MODULE$.apply(Object.class));
    }

    @Test
    void arraysOfEveryShapeOrderAndTypeSurvive()
    {
        INDArray matrix = Nd4j.rand(DataType.FLOAT, 7, 5);
        assertThat(this.<INDArray>roundTrip(matrix)).isEqualTo(matrix);
        INDArray fortran = matrix.dup('f');
        assertThat(this.<INDArray>roundTrip(fortran)).isEqualTo(fortran);
        INDArray view = matrix.get(NDArrayIndex.interval(2, 5), NDArrayIndex.interval(1, 4));
        assertThat(view.isView()).isTrue();
        assertThat(this.<INDArray>roundTrip(view)).isEqualTo(view.dup());
        INDArray doubles = Nd4j.rand(DataType.DOUBLE, 3, 2, 4);
        assertThat(this.<INDArray>roundTrip(doubles)).isEqualTo(doubles);
        INDArray longs = Nd4j.createFromArray(1L, -2L, Long.MAX_VALUE);
        assertThat(this.<INDArray>roundTrip(longs)).isEqualTo(longs);
        INDArray scalar = Nd4j.scalar(3.5f);
        INDArray back = roundTrip(scalar);
        assertThat(back.rank()).isZero();
        assertThat(back.getFloat(0)).isEqualTo(3.5f);
        INDArray empty = Nd4j.empty(DataType.FLOAT);
        assertThat(this.<INDArray>roundTrip(empty).isEmpty()).isTrue();
        // a large one, as the parameters and updater state of a round are
        INDArray parameters = Nd4j.rand(DataType.FLOAT, 1, 431_080);
        assertThat(this.<INDArray>roundTrip(parameters)).isEqualTo(parameters);
    }

    @Test
    void imageBatchesSurviveAndBecomeTheSameDataSet()
    {
        ImageBatch batch = new ImageBatch(1, 2, 2, 3, new byte[] {0, (byte) 255, 10, 20, 30, 40, 50, (byte) 128}, new int[] {2, 0});
        ImageBatch back = roundTrip(batch);
        DataSet expected = batch.toDataSet();
        DataSet actual = back.toDataSet();
        assertThat(actual.getFeatures()).isEqualTo(expected.getFeatures());
        assertThat(actual.getLabels()).isEqualTo(expected.getLabels());
        assertThat(actual.getFeatures().getFloat(0, 0, 0, 1)).isEqualTo(1f);
        assertThat(actual.getLabels().getFloat(0, 2)).isEqualTo(1f);
    }
}
