/**
 * Pascal VOC layout (http://host.robots.ox.ac.uk/pascal/VOC/): one XML file
 * per image under `Annotations/`, images under `JPEGImages/`, and id lists
 * under `ImageSets/Main/<name>.txt`.
 */

export const ANNOTATIONS_DIR = 'Annotations';
export const IMAGES_DIR = 'JPEGImages';
export const IMAGE_SETS_DIR = 'ImageSets/Main';

export const ANNOTATION_EXT = '.xml';
export const IMAGE_SET_EXT = '.txt';

/** Root element of a VOC annotation file. */
export const ROOT_ELEMENT = 'annotation';

/** Bytes of an XML file read by `detect()` to look for the root element. */
export const DETECT_HEAD_BYTES = 4096;
