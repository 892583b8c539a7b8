from .conv_connectors import Conv1x1Connector, ConvBNReLUConnector, VIDRegressor

__all__ = ['Conv1x1Connector', 'ConvBNReLUConnector', 'VIDRegressor']
