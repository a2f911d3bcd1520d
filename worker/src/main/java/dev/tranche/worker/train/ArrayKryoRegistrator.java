package dev.tranche.worker.train;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import dev.tranche.worker.data.ImageBatch;
import org.apache.spark.serializer.KryoRegistrator;
import org.nd4j.kryo.Nd4jRegistrator;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * ND4J's Kryo setup with a faster serializer for arrays, and one for {@link ImageBatch}. Parameter averaging ships the network's
 * parameters and updater state to every worker and back each round; ND4J's own serializer reads
 * them element by element, which cost a third of a LeNet round on two cores. This one copies the
 * array's bytes in bulk (docs/benchmarks-worker.md).
 */
public final class ArrayKryoRegistrator
        implements KryoRegistrator
{
    @Override
    public void registerClasses(Kryo kryo)
    {
        new Nd4jRegistrator().registerClasses(kryo);
        kryo.register(Nd4j.getBackend().getNDArrayClass(), new BulkArraySerializer());
        kryo.register(ImageBatch.class, new ImageBatchSerializer());
    }

    /** The mini-batches Spark ships to its executors (Kryo cannot build records by itself). */
    static final class ImageBatchSerializer
            extends Serializer<ImageBatch>
    {
        @Override
        public void write(Kryo kryo, Output output, ImageBatch batch)
        {
            output.writeInt(batch.channels());
            output.writeInt(batch.height());
            output.writeInt(batch.width());
            output.writeInt(batch.classes());
            output.writeInt(batch.pixels().length);
            output.writeBytes(batch.pixels());
            output.writeInt(batch.labels().length);
            output.writeInts(batch.labels());
        }

        @Override
        public ImageBatch read(Kryo kryo, Input input, Class<ImageBatch> type)
        {
            int channels = input.readInt();
            int height = input.readInt();
            int width = input.readInt();
            int classes = input.readInt();
            byte[] pixels = input.readBytes(input.readInt());
            int[] labels = input.readInts(input.readInt());
            return new ImageBatch(channels, height, width, classes, pixels, labels);
        }
    }

    /** dtype, order of bytes, shape, then the elements in C order as raw bytes. */
    static final class BulkArraySerializer
            extends Serializer<INDArray>
    {
        @Override
        public void write(Kryo kryo, Output output, INDArray array)
        {
            // an empty array has no buffer; anything else is written as one dense C-order block
            INDArray dense = array.isEmpty() || !array.isView() && array.ordering() == 'c' && array.data().length() == array.length() ? array : array.dup('c');
            output.writeString(dense.dataType().name());
            output.writeBoolean(ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN);
            long[] shape = dense.shape();
            output.writeInt(shape.length);
            for (long dimension : shape) {
                output.writeLong(dimension);
            }
            boolean empty = dense.isEmpty();
            output.writeBoolean(empty);
            if (empty) {
                return;
            }
            int size = Math.toIntExact(dense.length() * dense.dataType().width());
            byte[] bytes = new byte[size];
            ByteBuffer source = dense.data().asNio().duplicate();
            source.position(0).limit(size);
            source.get(bytes);
            output.writeInt(size);
            output.writeBytes(bytes);
        }

        @Override
        public INDArray read(Kryo kryo, Input input, Class<INDArray> type)
        {
            DataType dataType = DataType.valueOf(input.readString());
            boolean littleEndian = input.readBoolean();
            if (littleEndian != (ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN)) {
                throw new IllegalStateException("an array from a machine of the other byte order; all replicas must share one architecture");
            }
            long[] shape = new long[input.readInt()];
            for (int i = 0; i < shape.length; i++) {
                shape[i] = input.readLong();
            }
            try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                if (input.readBoolean()) {
                    return shape.length == 0 ? Nd4j.empty(dataType) : Nd4j.create(dataType, shape);
                }
                byte[] bytes = input.readBytes(input.readInt());
                INDArray array = Nd4j.createUninitialized(dataType, shape, 'c');
                ByteBuffer target = array.data().asNio().duplicate();
                target.position(0);
                target.put(bytes);
                return array;
            }
        }
    }
}
