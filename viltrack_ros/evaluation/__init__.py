"""OTB-protocol evaluation of our tracker beside OpenCV's CSRT and KCF."""
