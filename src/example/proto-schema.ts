/**
 * The tf.Example family as protobufjs reflection types, built from the
 * descriptor generated from proto/*.proto. Used for SequenceExample (which the
 * fast codec does not cover) and as the reference codec in tests.
 */
import protobuf from 'protobufjs';
import { TF_EXAMPLE_DESCRIPTOR } from './proto-descriptor.js';

export const tfExampleRoot: protobuf.Root = protobuf.Root.fromJSON(TF_EXAMPLE_DESCRIPTOR as unknown as protobuf.INamespace);

export const ExampleType = tfExampleRoot.lookupType('tensorflow.Example');
export const SequenceExampleType = tfExampleRoot.lookupType('tensorflow.SequenceExample');
export const FeatureType = tfExampleRoot.lookupType('tensorflow.Feature');
