/**
 * COCO "instances" JSON (https://cocodataset.org/#format-data), the object
 * detection subset: `images`, `annotations` (bbox as [x, y, width, height] in
 * pixels from the top-left corner), `categories`.
 */

/** Name Roboflow gives the JSON it places beside the images of each split. */
export const ROBOFLOW_ANNOTATION_FILE = '_annotations.coco.json';

/** Directory name under which COCO, CVAT and Datumaro keep the JSON files. */
export const ANNOTATIONS_DIR_NAME = 'annotations';

/** Directory that holds the split folders in the Datumaro/CVAT layout (`images/train/a.jpg`). */
export const IMAGES_DIR_NAME = 'images';

/** `iscrowd` value that marks an RLE crowd region. */
export const CROWD_FLAG = 1;

/** Bytes read by `detect()`; the top-level keys of a COCO file come early. */
export const DETECT_HEAD_BYTES = 64 * 1024;
